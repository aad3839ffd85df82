import CLibArchive
import SystemSupport

/// A compression applied around a tar stream.
public enum ArchiveFilter: String, CaseIterable, Sendable {
  case none, gzip, zstd, xz, bzip2

  /// The name users type (`-c zstd`).
  public var name: String { rawValue }

  /// Parses a user's algorithm name, case-insensitively (`gz`, `zst`, `bz2` are accepted too).
  public init(name: String) throws {
    switch name.lowercased() {
    case "none", "tar", "": self = .none
    case "gzip", "gz": self = .gzip
    case "zstd", "zst": self = .zstd
    case "xz": self = .xz
    case "bzip2", "bz2": self = .bzip2
    default: throw ArchiveError.unknownCompression(name)
    }
  }

  /// The filter a file name's extension asks for, or `nil` when it says nothing (`.tar` says nothing:
  /// Podman and upstream write zstd into `.tar` files).
  public init?(fileExtensionOf path: String) {
    let lower = path.lowercased()
    if lower.hasSuffix(".gz") || lower.hasSuffix(".tgz") {
      self = .gzip
    } else if lower.hasSuffix(".zst") || lower.hasSuffix(".zstd") || lower.hasSuffix(".tzst") {
      self = .zstd
    } else if lower.hasSuffix(".xz") || lower.hasSuffix(".txz") {
      self = .xz
    } else if lower.hasSuffix(".bz2") || lower.hasSuffix(".tbz2") {
      self = .bzip2
    } else {
      return nil
    }
  }

  /// Maps libarchive's filter code (`archive_filter_code`) to a filter.
  init?(libarchiveCode code: Int32) {
    switch code {
    case ARCHIVE_FILTER_NONE: self = .none
    case ARCHIVE_FILTER_GZIP: self = .gzip
    case ARCHIVE_FILTER_ZSTD: self = .zstd
    case ARCHIVE_FILTER_XZ: self = .xz
    case ARCHIVE_FILTER_BZIP2: self = .bzip2
    default: return nil
    }
  }

  /// Adds this filter to a libarchive write handle.
  func add(to archive: OpaquePointer) -> Int32 {
    switch self {
    case .none: return archive_write_add_filter_none(archive)
    case .gzip: return archive_write_add_filter_gzip(archive)
    case .zstd: return archive_write_add_filter_zstd(archive)
    case .xz: return archive_write_add_filter_xz(archive)
    case .bzip2: return archive_write_add_filter_bzip2(archive)
    }
  }
}
