import Glibc

/// An open file descriptor, closed when the value is released.
///
/// Every call retries on `EINTR` and throws ``SystemError`` naming `displayPath`, the path the user gave.
public final class FileDescriptor {
  /// The raw descriptor.
  public let rawValue: Int32
  /// The path shown in error messages.
  public let displayPath: String
  private var isOpen = true

  /// Wraps an already open descriptor; `closeOnDeinit` false leaves it open (stdin, stdout).
  public init(rawValue: Int32, displayPath: String, closeOnDeinit: Bool = true) {
    self.rawValue = rawValue
    self.displayPath = displayPath
    self.isOpen = closeOnDeinit
  }

  /// Opens `path` with `flags` (`O_CLOEXEC` is always added) and `mode` for created files.
  public convenience init(
    path: String, flags: Int32, mode: mode_t = 0o600, relativeTo directory: FileDescriptor? = nil,
    displayPath: String? = nil
  ) throws {
    let fd = retrying { openat(directory?.rawValue ?? AT_FDCWD, path, flags | O_CLOEXEC, mode) }
    guard fd >= 0 else {
      throw SystemError("cannot open", path: displayPath ?? path)
    }
    self.init(rawValue: fd, displayPath: displayPath ?? path)
  }

  deinit {
    if isOpen { _ = Glibc.close(rawValue) }
  }

  /// Closes the descriptor now and reports a failed close (which can mean lost data).
  public func close() throws {
    guard isOpen else { return }
    isOpen = false
    if Glibc.close(rawValue) != 0 && errno != EINTR {
      throw SystemError("cannot close", path: displayPath)
    }
  }

  /// `fstat` of the descriptor.
  public func status() throws -> stat {
    var info = stat()
    guard fstat(rawValue, &info) == 0 else { throw SystemError("cannot stat", path: displayPath) }
    return info
  }

  /// Reads up to `buffer.count` bytes; 0 means end of file.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let n = retrying { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    guard n >= 0 else { throw SystemError("cannot read", path: displayPath) }
    return n
  }

  /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
  public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
      let n = retrying {
        pread(rawValue, base + done, buffer.count - done, off_t(offset) + off_t(done))
      }
      guard n >= 0 else { throw SystemError("cannot read", path: displayPath) }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// Writes all of `bytes`.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = retrying { Glibc.write(rawValue, base + done, bytes.count - done) }
      guard n > 0 else { throw SystemError("cannot write", path: displayPath) }
      done += n
    }
  }

  /// Writes all of `bytes`.
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Writes all of `bytes` at `offset` (the file position does not move).
  public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = retrying { pwrite(rawValue, base + done, bytes.count - done, off_t(offset) + off_t(done)) }
      guard n > 0 else { throw SystemError("cannot write", path: displayPath) }
      done += n
    }
  }

  /// Writes all of `bytes` at `offset` (the file position does not move).
  public func write(_ bytes: [UInt8], at offset: Int64) throws {
    try bytes.withUnsafeBytes { try write($0, at: offset) }
  }

  /// Flushes data and metadata to the device.
  public func sync() throws {
    guard fsync(rawValue) == 0 else { throw SystemError("cannot sync", path: displayPath) }
  }

  /// Reads the whole file, refusing more than `limit` bytes.
  public func readAll(limit: Int) throws -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
      if n == 0 { return result }
      guard result.count + n <= limit else { throw FileTooLargeError(path: displayPath, limit: limit) }
      result.append(contentsOf: chunk[0..<n])
    }
  }
}

/// A file larger than the tool will read into memory (metadata files are small).
public struct FileTooLargeError: Error, Equatable, CustomStringConvertible {
  /// The file as the user knows it.
  public var path: String
  /// The limit in bytes.
  public var limit: Int
  public var description: String {
    singleLine("\(path) is larger than \(ByteCount.format(Int64(limit))): refusing to read it")
  }
}

/// Runs a system call until it stops failing with `EINTR`.
@inline(__always)
package func retrying<T: FixedWidthInteger>(_ call: () -> T) -> T {
  while true {
    let result = call()
    if result == -1 && errno == EINTR { continue }
    return result
  }
}

extension FileDescriptor {
  /// Reads exactly `count` bytes from the current offset in blocks of up to 1 MiB; a file that ends sooner has
  /// changed while being read, which is an error.
  public func forEachBlock(count: Int64, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var remaining = count
    while remaining > 0 {
      let n = try read(
        into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), remaining))]))
      guard n > 0 else { throw SystemError("file changed while being read:", path: displayPath, code: EIO) }
      try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
      remaining -= Int64(n)
    }
  }
}
