import Glibc
import SystemSupport

/// The rules for turning archive members into files: nothing lands outside the target directory.
///
/// Member names must be relative and free of `..`; links may not lead out of the target; device nodes, FIFOs
/// and sockets are refused. Files are created `0600` and directories `0700`, each path component opened with
/// `O_NOFOLLOW`, so a link planted by an earlier member cannot redirect a later one.
public enum SafeExtraction {
  /// The member's name normalised (no leading `./`, no empty components), `nil` for the archive root itself.
  /// Throws ``ArchiveError/unsafeMember(archive:member:reason:)`` for absolute names and `..` components.
  public static func checkedName(of entry: ArchiveEntry, in archive: String) throws -> String? {
    let name = entry.path
    if name.hasPrefix("/") {
      throw ArchiveError.unsafeMember(archive: archive, member: name, reason: "absolute path")
    }
    let parts = name.split(separator: "/", omittingEmptySubsequences: true)
    if parts.contains("..") {
      throw ArchiveError.unsafeMember(archive: archive, member: name, reason: "path leads out of the target")
    }
    if name.contains("\0") {
      throw ArchiveError.unsafeMember(archive: archive, member: name, reason: "NUL in the name")
    }
    if let target = entry.linkTarget, entry.kind == .symbolicLink || entry.kind == .hardLink {
      try checkLink(target, of: parts.filter { $0 != "." }, hard: entry.kind == .hardLink, member: name, in: archive)
    }
    return entry.normalizedPath
  }

  /// Refuses link targets that resolve outside the target directory (lexically, from the link's directory).
  private static func checkLink(
    _ target: String, of parts: [Substring], hard: Bool, member: String, in archive: String
  ) throws {
    if target.hasPrefix("/") {
      throw ArchiveError.unsafeMember(archive: archive, member: member, reason: "link to absolute path \(target)")
    }
    // A hard link's target is a member name (relative to the root); a symlink's is relative to its directory.
    var depth = hard ? 0 : max(0, parts.count - 1)
    for component in target.split(separator: "/", omittingEmptySubsequences: true) {
      switch component {
      case ".": continue
      case "..":
        depth -= 1
        if depth < 0 {
          throw ArchiveError.unsafeMember(archive: archive, member: member, reason: "link leads out of the target")
        }
      default: depth += 1
      }
    }
  }

  /// Extracts the members `include` accepts into `directory` (which must exist), never outside it.
  ///
  /// Returns the normalised names written. Existing files are never replaced: a clash is an error.
  @discardableResult
  public static func extract(
    _ reader: ArchiveReader, into directory: String, include: (ArchiveEntry) -> Bool = { _ in true }
  ) throws -> [String] {
    let root = try FileDescriptor(path: directory, flags: O_RDONLY | O_DIRECTORY)
    var written: [String] = []
    while let entry = try reader.next() {
      guard include(entry), let name = try checkedName(of: entry, in: reader.displayPath) else { continue }
      try write(entry, named: name, from: reader, under: root, display: directory, written: written)
      written.append(name)
    }
    return written
  }

  /// Writes the current member of `reader` as `name` (from ``checkedName(of:in:)``) below the directory `root`
  /// (`display` in messages), creating its parent directories `0700`; `written` are the members already written
  /// (the only targets a hard link may have).
  public static func write(
    _ entry: ArchiveEntry, named name: String, from reader: ArchiveReader, under root: FileDescriptor,
    display directory: String, written: [String] = []
  ) throws {
    var parts = name.split(separator: "/").map(String.init)
    let leaf = parts.removeLast()
    let parent = try openDirectory(parts, under: root, creating: true, display: Path.join(directory, name))
    let display = Path.join(directory, name)
    switch entry.kind {
    case .directory:
      guard mkdirat(parent.rawValue, leaf, 0o700) == 0 || errno == EEXIST else {
        throw SystemError("cannot create directory", path: display)
      }
      _ = try openDirectory([leaf], under: parent, creating: false, display: display)
    case .regular:
      let file = try FileDescriptor(
        path: leaf, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600, relativeTo: parent,
        displayPath: display)
      try reader.forEachBlock { try file.write($0) }
      try file.close()
    case .symbolicLink:
      guard symlinkat(entry.linkTarget ?? "", parent.rawValue, leaf) == 0 else {
        throw SystemError("cannot create link", path: display)
      }
    case .hardLink:
      // The target was checked to stay inside; link only to a regular file this extraction wrote.
      guard let target = entry.linkTarget.flatMap(ArchiveEntry.normalize), written.contains(target)
      else {
        throw ArchiveError.unsafeMember(
          archive: reader.displayPath, member: entry.path, reason: "hard link to a file not in the archive")
      }
      guard linkat(root.rawValue, target, parent.rawValue, leaf, 0) == 0 else {
        throw SystemError("cannot create link", path: display)
      }
    default:
      throw ArchiveError.unsupportedMemberType(archive: reader.displayPath, member: entry.path, type: entry.kindName)
    }
  }

  /// Opens (and with `creating`, makes, `0700`) nested directories below `base`, refusing symbolic links.
  private static func openDirectory(
    _ components: [String], under base: FileDescriptor, creating: Bool, display: String
  ) throws -> FileDescriptor {
    var current = base
    for component in components where component != "." {
      if creating && mkdirat(current.rawValue, component, 0o700) != 0 && errno != EEXIST {
        throw SystemError("cannot create directory", path: display)
      }
      current = try FileDescriptor(
        path: component, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW, relativeTo: current, displayPath: display)
    }
    return current
  }
}
