import Glibc

/// Private scratch files: created 0600 and close-on-exec, then unlinked at once, so nothing is left behind
/// whatever happens to the process.
public enum UnlinkedFile {
  /// A new scratch file in `directory`, named `<stem>.XXXXXX` while it exists; `displayPath` names it in errors.
  public static func make(in directory: String, stem: String, displayPath: String? = nil) throws -> FileDescriptor {
    var template = Array(Path.join(directory, stem + ".XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else { throw SystemError("cannot create a temporary file in", path: directory) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    _ = fchmod(fd, 0o600)
    template.withUnsafeBufferPointer { buffer in _ = buffer.baseAddress.map { unlink($0) } }
    return FileDescriptor(rawValue: fd, displayPath: displayPath ?? Self.displayPath(in: directory))
  }

  /// How errors name a scratch file of `directory` (never by its temporary name).
  public static func displayPath(in directory: String) -> String { "a temporary file in \(directory)" }

  /// A new scratch file in `$TMPDIR`.
  public static func make(stem: String) throws -> FileDescriptor {
    try make(in: ProcessEnvironment.temporaryDirectory, stem: stem)
  }
}

/// A private (0700) scratch directory in `$TMPDIR` (or beside a directory about to be renamed into place),
/// removed with the files in it (one level) by ``remove()``.
public struct ScratchDirectory {
  /// The directory's path.
  public let path: String

  /// Creates `<stem>.XXXXXX` in `base`.
  public init(stem: String, in base: String = ProcessEnvironment.temporaryDirectory) throws {
    var template = Array(Path.join(base, stem + ".XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard made != nil else { throw SystemError("cannot create a temporary directory in", path: base) }
    path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Removes the files in the directory, then the directory.
  public func remove() {
    Path.removeFlatDirectory(path)
  }
}
