import SystemSupport

/// One member of a tar archive, as read from its header.
public struct ArchiveEntry: Equatable, Sendable {
  /// What kind of file a member is.
  public enum Kind: Equatable, Sendable {
    case regular, directory, symbolicLink, hardLink, characterDevice, blockDevice, fifo, socket, unknown
  }

  /// The name exactly as stored in the archive.
  public var path: String
  /// The member kind.
  public var kind: Kind
  /// Size of the member's data in bytes.
  public var size: Int64
  /// Permission bits (without the file type).
  public var permissions: UInt32
  /// Modification time, seconds since the epoch.
  public var modificationTime: Int64
  /// Owner and group ids.
  public var uid: Int64
  public var gid: Int64
  /// Link target for symbolic and hard links.
  public var linkTarget: String?
  /// Offset of the member's data in the archive file, known only for uncompressed archives read from a file (not
  /// a pipe); lets the data be read in place with `pread` later.
  public var dataOffset: Int64?

  /// A member description; links need `linkTarget`.
  public init(
    path: String, kind: Kind, size: Int64 = 0, permissions: UInt32 = 0o600, modificationTime: Int64 = 0,
    uid: Int64 = 0, gid: Int64 = 0, linkTarget: String? = nil, dataOffset: Int64? = nil
  ) {
    self.path = path
    self.kind = kind
    self.size = size
    self.permissions = permissions
    self.modificationTime = modificationTime
    self.uid = uid
    self.gid = gid
    self.linkTarget = linkTarget
    self.dataOffset = dataOffset
  }

  /// The name without leading `./` (and `/` runs collapsed), or `nil` for the archive root itself.
  public var normalizedPath: String? { ArchiveEntry.normalize(path) }

  /// A member name without `.` components and empty ones, `nil` when nothing is left.
  public static func normalize(_ name: String) -> String? {
    let parts = name.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
    return parts.isEmpty ? nil : parts.joined(separator: "/")
  }

  /// A readable name for the member kind, used in messages.
  public var kindName: String {
    switch kind {
    case .regular: return "regular file"
    case .directory: return "directory"
    case .symbolicLink: return "symbolic link"
    case .hardLink: return "hard link"
    case .characterDevice: return "character device"
    case .blockDevice: return "block device"
    case .fifo: return "FIFO"
    case .socket: return "socket"
    case .unknown: return "unknown type"
    }
  }
}
