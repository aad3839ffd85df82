/// Bytes that can be read at any offset: a pages file on disk, a member of an uncompressed archive read in
/// place, or bytes in memory.
public protocol RandomAccessBytes: AnyObject {
  /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int
}

/// Bytes held in memory (tests, small images).
public final class InMemoryBytes: RandomAccessBytes {
  /// The bytes.
  public let bytes: [UInt8]

  /// Wraps `bytes`.
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard offset >= 0, offset < Int64(bytes.count) else { return 0 }
    let count = min(buffer.count, bytes.count - Int(offset))
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + count]))
    }
    return count
  }
}

/// A byte range of other random-access bytes: a member of an open file (read with `pread`), or of a member.
public final class FileSlice: RandomAccessBytes {
  /// The bytes the range is of.
  public let base: RandomAccessBytes
  /// Where the range starts in them.
  public let offset: Int64
  /// Its length.
  public let size: Int64

  /// `size` bytes of `base` from `offset`.
  public init(base: RandomAccessBytes, offset: Int64, size: Int64) {
    self.base = base
    self.offset = offset
    self.size = size
  }

  /// `size` bytes of an open file from `offset`, read with `pread`.
  public convenience init(file: FileDescriptor, offset: Int64, size: Int64) {
    self.init(base: file, offset: offset, size: size)
  }

  public func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    guard position >= 0, position < size else { return 0 }
    let count = Int(min(Int64(buffer.count), size - position))
    return try base.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: offset + position)
  }
}

extension FileDescriptor: RandomAccessBytes {}
