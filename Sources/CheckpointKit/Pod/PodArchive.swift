import Archive
import OCI
import SystemSupport

/// A pod checkpoint packed in a tar of its directory (plain, gzip or zstd; `tar cf pod.tar -C DIR .`): the pod's
/// files are read in one pass, and each container's checkpoint is read from inside it as a checkpoint of its own,
/// named `POD.tar/<its place in the pod>`: in place when the tar is uncompressed, else decompressed again and
/// read as it passes (nothing is unpacked to disk).
enum PodArchive {
  /// A member of the pod archive.
  struct Member: Sendable, Equatable {
    var size: Int64
    var modificationTime: Int64
    var isRegular: Bool
  }

  /// What one pass over a pod archive found.
  struct Contents: Sendable, Equatable {
    /// Every member but directories, by normalised name.
    var members: [String: Member] = [:]
    /// Directories, explicit or implied by members.
    var directories: Set<String> = []
    /// The bytes of the pod's own JSON files (regular files at the root).
    var files: [String: [UInt8]] = [:]
  }

  /// The pod's own files, read into memory.
  static let podFiles: Set<String> = Set(PodCheckpoint.markers + [PodCheckpoint.Layout.legacySandboxName])

  /// A checkpoint inside a pod archive: an archive (a container checkpoint archive, or the members below a legacy
  /// container directory), or an image (containerd's).
  enum Enclosed {
    case archive(CheckpointSource.Enclosure)
    case image(ImageBlobs)
  }

  /// True for containerd's `container-<hex>.tar` at the pod's root.
  static func containerdArchive(_ name: String) -> Bool {
    name.hasPrefix("container-") && name.hasSuffix(".tar") && !name.contains("/")
  }

  /// True when the archive at `path` starts like a pod checkpoint: its first member (after `./`) is one of the
  /// pod's files, `containers/`, a `container-<hex>.tar` or a legacy `<64 hex>-<name>/` directory, none of which
  /// starts a container checkpoint or an image.
  static func startsLikePod(_ path: String) -> Bool {
    guard let reader = try? ArchiveReader(path: path) else { return false }
    while let entry = try? reader.next() {
      guard let name = entry.normalizedPath, !name.isEmpty, name != "." else { continue }
      let top = String(name.prefix { $0 != "/" })
      if podFiles.contains(top) || top == "containers" { return true }
      if containerdArchive(name) { return true }
      let id = top.prefix(64)
      return id.count == 64 && id.allSatisfy(\.isHexDigit) && top.dropFirst(64).first == "-"
        && (name.contains("/") || entry.kind == .directory)
    }
    return false
  }

  /// Reads the pod archive at `path` once: the member index and the pod's JSON files.
  static func read(_ path: String) throws -> Contents {
    let reader = try ArchiveReader(path: path)
    var contents = Contents()
    while let entry = try reader.next() {
      guard let name = try SafeExtraction.checkedName(of: entry, in: path), !name.isEmpty else { continue }
      if entry.kind == .directory {
        contents.directories.insert(name)
        continue
      }
      contents.members[name] = Member(
        size: entry.size, modificationTime: entry.modificationTime, isRegular: entry.kind == .regular)
      var parent = Path.directory(of: name)
      while parent != "." && !parent.isEmpty && contents.directories.insert(parent).inserted {
        parent = Path.directory(of: parent)
      }
      if entry.kind == .regular && podFiles.contains(name) {
        contents.files[name] = try reader.readAll(limit: PodCheckpoint.Layout.manifestLimit, member: name)
      }
    }
    return contents
  }

  /// The lowercase hex SHA-256 of the member `name` of the pod archive `path`.
  static func sha256(of name: String, in path: String) throws -> String {
    let reader = try ArchiveReader(path: path)
    while let entry = try reader.next() {
      guard try SafeExtraction.checkedName(of: entry, in: path) == name else { continue }
      var hasher = SHA256Hasher()
      try reader.forEachBlock { hasher.update($0) }
      return hasher.finalize()
    }
    throw CheckpointError.missing(Path.join(path, name))
  }

  /// The archive a checkpoint is read from when `path` names a member of a pod archive
  /// (`POD.tar/containers/<hex>.tar`, `POD.tar/container-<hex>.tar`, legacy `POD.tar/<id>-<name>`), else `nil`.
  static func enclosure(_ path: String) throws -> Enclosed? {
    var outer = Path.directory(of: path)
    while outer != "." && !outer.isEmpty && outer != "/" {
      if let info = try Path.status(outer) {
        guard Path.isRegularFile(info), startsLikePod(outer) else { return nil }
        return try open(member: String(path.dropFirst(outer.count + 1)), of: outer, display: path)
      }
      outer = Path.directory(of: outer)
    }
    return nil
  }

  /// Opens `member` of the pod archive `outer`: a container archive (in place when `outer` is uncompressed,
  /// else read forward as `outer` is decompressed), or a legacy container directory (the members below it).
  private static func open(member: String, of outer: String, display: String) throws -> Enclosed {
    let name = ArchiveEntry.normalize(member) ?? member
    // A legacy container is a directory, known by its name: the pod archive itself, read below `name/`.
    if !name.hasSuffix(".tar") {
      let reader = try ArchiveReader(path: outer)
      return .archive(
        CheckpointSource.Enclosure(
          reader: reader, file: reader.fileReadableAtOffsets, baseOffset: 0, prefix: name + "/", finish: {}))
    }
    let reader = try ArchiveReader(path: outer)
    while let entry = try reader.next() {
      guard let entryName = try SafeExtraction.checkedName(of: entry, in: outer) else { continue }
      guard entryName == name else { continue }
      guard entry.kind == .regular else { throw CheckpointError.notRegularFile(source: outer, member: name) }
      let inPlace = entry.dataOffset.flatMap { offset in reader.fileReadableAtOffsets.map { ($0, offset) } }
      let bytes: RandomAccessBytes =
        inPlace.map { FileSlice(file: $0.0, offset: $0.1, size: entry.size) }
        ?? ForwardMember(reader: reader, source: outer, member: name, keeping: nil)
      let inner = try ArchiveReader(bytes: bytes, size: entry.size, displayPath: display)
      // containerd's layout: each container an OCI image layout tar holding its checkpoint image.
      if containerdArchive(name) {
        let archive = try OCIArchiveFile(
          reader: inner, display: display, file: inPlace?.0, baseOffset: inPlace?.1 ?? 0)
        return .image(try ImageBlobs(archive: archive, display: display))
      }
      return .archive(
        CheckpointSource.Enclosure(
          reader: inner, file: inPlace?.0, baseOffset: inPlace?.1 ?? 0, prefix: nil,
          finish: { _ = try (bytes as? ForwardMember)?.finish() }))
    }
    throw CheckpointError.missing(display)
  }
}
