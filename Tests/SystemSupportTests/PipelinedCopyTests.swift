import Archive
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct PipelinedCopyTests {
  struct ProducerFailure: Error {}

  @Test(arguments: [0, 1, 4095, (1 << 20) + 7, 9 << 20])
  func copiesEveryByteInOrder(_ size: Int) throws {
    let directory = try TemporaryDirectory()
    let data = pseudoRandomBytes(count: size)
    let file = try FileDescriptor(path: directory.file("out"), flags: O_WRONLY | O_CREAT | O_EXCL)
    var offset = 0
    // Odd-sized pieces, so buffer boundaries never line up with the data.
    let copied = try PipelinedCopy.copy(into: file) { buffer in
      let n = min(buffer.count, data.count - offset, 300_001)
      buffer.copyBytes(from: data[offset..<offset + n])
      offset += n
      return n
    }
    try file.close()
    #expect(copied == Int64(size))
    #expect(try Files.read(directory.file("out")) == data)
  }

  /// Two copies appended to one file without write-back (how a spill file is filled): each starts where the
  /// previous one ended.
  @Test func appendsFromTheFilePosition() throws {
    let directory = try TemporaryDirectory()
    let first = pseudoRandomBytes(count: (3 << 20) + 11, seed: 1)
    let second = pseudoRandomBytes(count: 5000, seed: 2)
    let file = try FileDescriptor(path: directory.file("out"), flags: O_RDWR | O_CREAT | O_EXCL)
    for data in [first, second] {
      var offset = 0
      let copied = try PipelinedCopy.copy(into: file, startsWriteback: false) { buffer in
        let n = min(buffer.count, data.count - offset)
        buffer.copyBytes(from: data[offset..<offset + n])
        offset += n
        return n
      }
      #expect(copied == Int64(data.count))
    }
    try file.close()
    #expect(try Files.read(directory.file("out")) == first + second)
  }

  @Test func producerErrorsAreRethrown() throws {
    let directory = try TemporaryDirectory()
    let file = try FileDescriptor(path: directory.file("out"), flags: O_WRONLY | O_CREAT | O_EXCL)
    var calls = 0
    #expect(throws: ProducerFailure.self) {
      try PipelinedCopy.copy(into: file) { buffer in
        calls += 1
        if calls == 6 { throw ProducerFailure() }
        return buffer.count
      }
    }
  }

  @Test func writeErrorsAreRethrown() throws {
    // Writing to a read-only descriptor fails with EBADF on the writer thread.
    let directory = try TemporaryDirectory()
    try Files.write([1], to: directory.file("ro"))
    let file = try FileDescriptor(path: directory.file("ro"), flags: O_RDONLY)
    var calls = 0
    #expect(throws: SystemError.self) {
      try PipelinedCopy.copy(into: file) { buffer in
        calls += 1
        return calls > 100 ? 0 : buffer.count
      }
    }
  }
}

@Suite struct BackgroundWriterTests {
  @Test(arguments: [0, 10, 1 << 20, (5 << 20) + 3])
  func writesEveryByteOfOddPieces(_ size: Int) throws {
    let directory = try TemporaryDirectory()
    let data = pseudoRandomBytes(count: size, seed: 99)
    let file = try FileDescriptor(path: directory.file("out"), flags: O_WRONLY | O_CREAT | O_EXCL)
    let writer = BackgroundWriter(file: file)
    var offset = 0
    while offset < data.count {
      let n = min(77_777, data.count - offset)
      try data[offset..<offset + n].withUnsafeBytes { try writer.write($0) }
      offset += n
    }
    try writer.finish()
    try file.close()
    #expect(try Files.read(directory.file("out")) == data)
  }
}
