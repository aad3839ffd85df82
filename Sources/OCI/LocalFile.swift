import Glibc

/// Small file operations for OCI layouts: private modes (files 0600, directories 0700), temporary names and
/// renames so that a reader never sees half a file.
public enum LocalFile {
  /// Reads a whole file of at most `limit` bytes.
  public static func read(_ path: String, limit: Int) throws(OCIError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .file(operation: "open", path: path, errno: errno) }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .file(operation: "read", path: path, errno: errno)
      }
      if n == 0 { return result }
      guard result.count + n <= limit else {
        throw .invalidDocument(source: path, reason: "larger than \(limit) bytes")
      }
      result.append(contentsOf: chunk[0..<n])
    }
  }

  /// True when `path` exists (without following a final symbolic link).
  public static func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  /// True when `path` is a directory.
  public static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  /// The size of a regular file, or `nil` when it is missing or not a regular file.
  public static func regularFileSize(_ path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int64(info.st_size)
  }

  /// Creates `path` as a private directory unless it exists.
  public static func makeDirectory(_ path: String) throws(OCIError) {
    if mkdir(path, 0o700) != 0 && errno != EEXIST { throw .file(operation: "mkdir", path: path, errno: errno) }
    guard isDirectory(path) else { throw .file(operation: "mkdir", path: path, errno: ENOTDIR) }
  }

  /// Creates a private temporary file beside `path` (`.NAME.tmp-XXXXXX`) and returns its descriptor and name.
  public static func makeTemporary(beside path: String) throws(OCIError) -> (fd: Int32, path: String) {
    let directory = parent(of: path)
    let base = path.split(separator: "/").last.map(String.init) ?? "image"
    var template = Array((directory + "/." + base + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else { throw .file(operation: "create a temporary file in", path: directory, errno: errno) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    _ = fchmod(fd, 0o600)
    let name = template.withUnsafeBufferPointer { buffer in
      String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return (fd, name)
  }

  /// Writes all of `bytes` to `fd`.
  public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(OCIError) {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = write(fd, base + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw .file(operation: "write", path: path, errno: errno)
      }
      done += n
    }
  }

  /// Writes `bytes` to `path` atomically (temporary file, fsync, rename), mode 0600.
  public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(OCIError) {
    let (fd, temporary) = try makeTemporary(beside: path)
    var committed = false
    defer {
      if !committed { unlink(temporary) }
    }
    do {
      defer { close(fd) }
      let failure = bytes.withUnsafeBytes { buffer -> OCIError? in
        do {
          try writeAll(fd, buffer, path: temporary)
          return nil
        } catch let error as OCIError { return error } catch {
          return .file(operation: "write", path: temporary, errno: EIO)
        }
      }
      if let failure { throw failure }
      guard fsync(fd) == 0 else { throw OCIError.file(operation: "fsync", path: temporary, errno: errno) }
    }
    try rename(temporary, to: path)
    committed = true
  }

  /// Renames `from` to `to` (replacing it) and syncs the directory.
  public static func rename(_ from: String, to: String) throws(OCIError) {
    guard Glibc.rename(from, to) == 0 else { throw .file(operation: "rename", path: to, errno: errno) }
    syncDirectory(parent(of: to))
  }

  /// Flushes a directory's entries to disk (best effort).
  public static func syncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
  }

  /// The directory part of `path` (`.` when it has none).
  public static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let head = path[..<slash]
    return head.isEmpty ? "/" : String(head)
  }
}
