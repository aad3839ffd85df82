import Glibc

/// Environment facts.
public enum ProcessEnvironment {
  /// `$TMPDIR`, else `/tmp`.
  public static var temporaryDirectory: String {
    guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
    return String(cString: value)
  }
}

/// A `PATH`-style search path: its directories in order, and the executables found on it.
public struct SearchPath: Sendable, Equatable {
  /// The directories searched, in order, made absolute.
  public var directories: [String]

  /// The directories of `value` (a `PATH` value; `nil` has none): empty entries are skipped, relative ones are
  /// taken from `currentDirectory` (default: the working directory, `/` when it cannot be read).
  public init(_ value: String?, currentDirectory: String? = nil) {
    let base = currentDirectory ?? SearchPath.workingDirectory()
    directories = (value ?? "").split(separator: ":", omittingEmptySubsequences: true).map { entry in
      entry.hasPrefix("/") ? String(entry) : Path.join(base, String(entry))
    }
  }

  /// This process's `$PATH`, or `default` when it is unset.
  public static func fromEnvironment(default: String? = nil) -> SearchPath {
    SearchPath(getenv("PATH").map { String(cString: $0) } ?? `default`)
  }

  /// The first `name` on the path that is an executable regular file (after following links).
  public func firstExecutable(named name: String) -> String? {
    for directory in directories {
      let path = Path.join(directory, name)
      if SearchPath.executableFile(path) != nil { return path }
    }
    return nil
  }

  /// A file told apart by device and inode, so that one file reached through two paths counts once.
  public struct FileID: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
  }

  /// Device and inode of `path` when it is, after following links, a regular file this process may execute.
  public static func executableFile(_ path: String) -> FileID? {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(path, X_OK) == 0 else { return nil }
    return FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
  }

  /// The working directory, or `/` when it cannot be read.
  private static func workingDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "/" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
