import CSystemShims
import Glibc

/// Small path helpers that keep the user's spelling of paths for messages.
public enum Path {
  /// Joins two path parts with exactly one `/` between them.
  public static func join(_ directory: String, _ name: String) -> String {
    if directory.isEmpty { return name }
    if directory.hasSuffix("/") { return directory + name }
    return directory + "/" + name
  }

  /// The directory part of `path` (`.` when there is none).
  public static func directory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    if slash == trimmed.startIndex { return "/" }
    return String(trimmed[..<slash])
  }

  /// The last component of `path`.
  public static func base(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
    return String(trimmed[trimmed.index(after: slash)...])
  }

  /// `stat` that follows links; `nil` when the path does not exist.
  public static func status(_ path: String) throws -> stat? {
    var info = stat()
    if stat(path, &info) == 0 { return info }
    if errno == ENOENT || errno == ENOTDIR { return nil }
    throw SystemError("cannot access", path: path)
  }

  /// `lstat`; `nil` when the path does not exist.
  public static func linkStatus(_ path: String) throws -> stat? {
    var info = stat()
    if lstat(path, &info) == 0 { return info }
    if errno == ENOENT || errno == ENOTDIR { return nil }
    throw SystemError("cannot access", path: path)
  }

  /// True when something is at `path` (a final symbolic link is not followed).
  public static func exists(_ path: String) -> Bool {
    (try? linkStatus(path)) != nil
  }

  /// The size of the regular file at `path` (after following links), `nil` when it is missing or not a regular
  /// file.
  public static func regularFileSize(_ path: String) -> Int64? {
    guard let info = try? status(path), isRegularFile(info) else { return nil }
    return Int64(info.st_size)
  }

  /// True for a regular file (after following links).
  public static func isRegularFile(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }

  /// True for a directory (after following links).
  public static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }

  /// The names in a directory (without `.` and `..`), unsorted.
  public static func entries(of directory: String) throws -> [String] {
    guard let handle = opendir(directory) else { throw SystemError("cannot read directory", path: directory) }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = String(decoding: Path.name(of: entry), as: UTF8.self)
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// The name of a `readdir` entry, read in place up to its NUL. A record is only as long as its name:
  /// `entry.pointee.d_name` copies the whole 256-byte array and reads past the end of the directory buffer
  /// (AddressSanitizer: heap-buffer-overflow) when the record is the last one.
  package static func name(of entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
    guard let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else { return [] }
    let start = UnsafeRawPointer(entry).advanced(by: offset)
    return Array(UnsafeRawBufferPointer(start: start, count: strlen(start.assumingMemoryBound(to: CChar.self))))
  }

  /// Flushes a directory's entries (after a rename) to the device.
  public static func syncDirectory(_ path: String) throws {
    let directory = try FileDescriptor(path: path, flags: O_RDONLY | O_DIRECTORY)
    try directory.sync()
  }

  /// Creates `path` as a private (0700) directory unless a directory is there already; its parent must exist.
  public static func makeDirectory(_ path: String) throws {
    if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SystemError("cannot create directory", path: path) }
    guard let info = try status(path), isDirectory(info) else {
      throw SystemError("cannot create directory", path: path, code: ENOTDIR)
    }
  }

  /// Removes a directory this program made and the files in it (one level; best effort).
  public static func removeFlatDirectory(_ directory: String) {
    for name in (try? entries(of: directory)) ?? [] { unlink(join(directory, name)) }
    rmdir(directory)
  }

  /// Moves `from` to `to` atomically, failing (`EEXIST`) rather than replacing anything at `to`.
  public static func renameNoReplace(_ from: String, to: String) throws {
    guard checkpointctl_rename_noreplace(from, to) == 0 else { throw SystemError("cannot create", path: to) }
  }

  /// Removes `path` and, for a directory, everything below it, never following a link (best effort).
  public static func removeTree(_ path: String) {
    guard let info = try? linkStatus(path) else { return }
    if isDirectory(info) {
      for name in (try? entries(of: path)) ?? [] { removeTree(join(path, name)) }
      rmdir(path)
    } else {
      unlink(path)
    }
  }

  /// Creates `path` and its missing parents with mode `0700`; returns the directories it created, outermost
  /// first.
  @discardableResult
  public static func makeDirectories(_ path: String) throws -> [String] {
    if let info = try status(path) {
      guard isDirectory(info) else { throw SystemError("cannot create directory", path: path, code: ENOTDIR) }
      return []
    }
    let parent = directory(of: path)
    var created = parent != path ? try makeDirectories(parent) : []
    if mkdir(path, 0o700) == 0 {
      created.append(path)
    } else if errno != EEXIST {
      throw SystemError("cannot create directory", path: path)
    }
    return created
  }
}
