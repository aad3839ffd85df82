import Archive
import CRIU
import Glibc
import SystemSupport

/// What the container changed in its root file system: the members of `rootfs-diff.tar` (files added or
/// changed) and the paths of `deleted.files` (files removed), as `inspect --rootfs-diff` shows them.
public struct RootFSDiff: Equatable, Sendable {
  /// The tar of added and changed files, at the archive root.
  public static let archiveName = CheckpointMember.rootFSDiff.name
  /// A JSON array with the absolute paths of deleted files, at the archive root.
  public static let deletedFilesName = CheckpointMember.deletedFiles.name

  /// One member of `rootfs-diff.tar`.
  public typealias File = ArchivedFile

  /// The members of `rootfs-diff.tar`, sorted by path; empty when the checkpoint has none.
  public var files: [File]
  /// The paths of `deleted.files`, in its order; empty when the checkpoint has none.
  public var deleted: [String]

  /// A diff with these fields.
  public init(files: [File], deleted: [String]) {
    self.files = files
    self.deleted = deleted
  }

  /// Reads the source's `rootfs-diff.tar` and `deleted.files` (each may be absent).
  public init(source: CheckpointSource) throws {
    files = source.contains(Self.archiveName) ? try File.list(Self.archiveName, of: source, prefix: "/") : []
    deleted = try Self.deletedFiles(of: source)
  }

  /// The paths of the source's `deleted.files`, in its order; none when it is absent or empty.
  package static func deletedFiles(of source: CheckpointSource) throws -> [String] {
    guard source.contains(Self.deletedFilesName) else { return [] }
    let bytes = try source.bytes(of: Self.deletedFilesName)
    // An empty member means no deletions; anything else must be a JSON array of strings.
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [] }
    return try decodeMember([String].self, bytes, source: source.displayPath, member: Self.deletedFilesName)
  }

}

/// One member of a tar saved in a checkpoint (`rootfs-diff.tar`, `devshm-checkpoint.tar`, a volume's tar).
public struct ArchivedFile: Equatable, Sendable {
  /// Its path: absolute in the container for `rootfs-diff.tar` (`/root/newfile.txt`), else relative to the
  /// saved directory.
  public var path: String
  /// Size of the data in bytes (0 for directories, FIFOs and links).
  public var size: Int64
  /// The type and permissions as `ls -l` shows them (`-rw-r--r--`, `drwxr-xr-x`, `prw-r--r--`).
  public var mode: String

  /// A file with these fields.
  public init(path: String, size: Int64, mode: String) {
    self.path = path
    self.size = size
    self.mode = mode
  }

  /// The members of the tar `member` of the source, named `prefix` + their normalised name, sorted by path (the
  /// tar's root, `./`, left out).
  static func list(_ member: String, of source: CheckpointSource, prefix: String = "") throws -> [ArchivedFile] {
    let reader = try reader(for: source, member: member)
    var files: [ArchivedFile] = []
    while let entry = try reader.next() {
      guard let name = entry.normalizedPath else { continue }
      files.append(ArchivedFile(path: prefix + name, size: entry.size, mode: mode(of: entry)))
    }
    return files.sorted { $0.path < $1.path }
  }

  /// A reader over the tar `member` where it is (the file in a directory, in place in an uncompressed archive,
  /// the spill file of a compressed one), never copied.
  package static func reader(for source: CheckpointSource, member: String) throws -> ArchiveReader {
    try ArchiveReader(
      bytes: source.randomAccess(member), size: source.size(of: member),
      displayPath: Path.join(source.displayPath, member))
  }

  /// `ls -l` style: a type letter, then `rwx` triplets with set-id and sticky bits as `s`/`S` and `t`/`T`.
  static func mode(of entry: ArchiveEntry) -> String {
    let type: Character
    switch entry.kind {
    case .regular, .hardLink: type = "-"
    case .directory: type = "d"
    case .symbolicLink: type = "l"
    case .characterDevice: type = "c"
    case .blockDevice: type = "b"
    case .fifo: type = "p"
    case .socket: type = "s"
    case .unknown: type = "?"
    }
    let bits = entry.permissions
    var text = String(type)
    let special: [(UInt32, Character, Character)] = [(0o4000, "s", "S"), (0o2000, "s", "S"), (0o1000, "t", "T")]
    for (index, shift) in [6, 3, 0].enumerated() {
      let triplet = bits >> UInt32(shift) & 7
      text.append(triplet & 4 != 0 ? "r" : "-")
      text.append(triplet & 2 != 0 ? "w" : "-")
      let execute = triplet & 1 != 0
      let (flag, set, unset) = special[index]
      if bits & flag != 0 {
        text.append(execute ? set : unset)
      } else {
        text.append(execute ? "x" : "-")
      }
    }
    return text
  }
}
