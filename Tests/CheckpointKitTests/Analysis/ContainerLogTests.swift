import Archive
import SystemSupport
import TestSupport
import Testing

@testable import CheckpointKit

/// The end of a container log, read backwards in bounded memory.
@Suite struct ContainerLogTests {
  /// Bytes made on demand (a log of any size without allocating it), counting what is read.
  final class MadeBytes: RandomAccessBytes {
    let size: Int64
    let byte: (Int64) -> UInt8
    var bytesRead: Int64 = 0

    init(size: Int64, byte: @escaping (Int64) -> UInt8) {
      self.size = size
      self.byte = byte
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
      guard offset >= 0, offset < size else { return 0 }
      let count = Int(min(Int64(buffer.count), size - offset))
      for index in 0..<count { buffer[index] = byte(offset + Int64(index)) }
      bytesRead += Int64(count)
      return count
    }
  }

  static func tail(_ text: String, lines: Int) throws -> [String] {
    let bytes = Array(text.utf8)
    let result = try ContainerLog.tail(of: InMemoryBytes(bytes), size: Int64(bytes.count), lines: lines)
    #expect(!result.partial)
    return result.lines.map { String(decoding: $0, as: UTF8.self) }
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var log: String
    var lines: Int
    var expected: [String]
    var testDescription: String { "\(lines) of \(log.debugDescription)" }
  }

  @Test(arguments: [
    Case(log: "", lines: 50, expected: []),
    Case(log: "a\nb\nc\n", lines: 50, expected: ["a", "b", "c"]),
    Case(log: "a\nb\nc", lines: 2, expected: ["b", "c"]),
    Case(log: "a\nb\nc\n", lines: 3, expected: ["a", "b", "c"]),
    Case(log: "a\nb\nc\n", lines: 1, expected: ["c"]),
    Case(log: "a\nb\nc\n", lines: 0, expected: []),
    Case(log: "\n", lines: 5, expected: [""]),
    Case(log: "a\n\n\n", lines: 5, expected: ["a", "", ""]),
    Case(log: "tty\r\nline\r\n", lines: 5, expected: ["tty", "line"]),
  ])
  func lastLines(_ test: Case) throws {
    #expect(try Self.tail(test.log, lines: test.lines) == test.expected)
  }

  @Test func linesAcrossChunks() throws {
    let lines = (0..<20_000).map { "line \($0) " + String(repeating: "x", count: $0 % 37) }
    #expect(try Self.tail(lines.joined(separator: "\n") + "\n", lines: 5_000) == Array(lines.suffix(5_000)))
  }

  /// A terabyte log: only its end is read.
  @Test func aHugeLogIsReadFromItsEnd() throws {
    let log = MadeBytes(size: 1_000_000_000_000) { $0 % 100 == 99 ? 0x0A : 0x61 }
    let result = try ContainerLog.tail(of: log, size: log.size, lines: 50)
    #expect(result.lines.count == 50 && result.lines.allSatisfy { $0 == Array(repeating: 0x61, count: 99) })
    #expect(!result.partial)
    #expect(log.bytesRead <= 64 << 10)
  }

  /// A log without newlines: at most ``ContainerLog/tailLimit`` bytes are read, the one line shown is cut.
  @Test func aLineLongerThanTheLimitIsCut() throws {
    let log = MadeBytes(size: 1 << 40) { _ in 0x62 }
    let result = try ContainerLog.tail(of: log, size: log.size, lines: 3)
    #expect(result.lines.count == 1 && result.lines[0].count == Int(ContainerLog.tailLimit) && result.partial)
    #expect(log.bytesRead == ContainerLog.tailLimit + 1)
    // A newline just before the bytes read: the line is whole.
    let whole = MadeBytes(size: ContainerLog.tailLimit + 1) { $0 == 0 ? 0x0A : 0x62 }
    let wholeResult = try ContainerLog.tail(of: whole, size: whole.size, lines: 3)
    #expect(wholeResult.lines.map(\.count) == [Int(ContainerLog.tailLimit)] && !wholeResult.partial)
  }

  /// Asking for more lines than fit in the limit: the whole lines in it, the first one cut.
  @Test func manyLinesStopAtTheLimit() throws {
    let log = MadeBytes(size: 1_000_000_000) { $0 % 1000 == 999 ? 0x0A : 0x63 }
    let result = try ContainerLog.tail(of: log, size: log.size, lines: 1_000_000)
    let whole = Int(ContainerLog.tailLimit) / 1000
    #expect(result.lines.count == whole + 1 && result.partial)
    #expect(result.lines.dropFirst().allSatisfy { $0.count == 999 })
    #expect(log.bytesRead == ContainerLog.tailLimit + 1)
  }

  /// A log shorter than the size it was said to have (a file that shrank): what it holds.
  @Test func aLogThatShrank() throws {
    let bytes = Array("one\ntwo\nthree\n".utf8)
    let result = try ContainerLog.tail(of: InMemoryBytes(bytes), size: 100_000, lines: 2)
    #expect(result.lines == [Array("two".utf8), Array("three".utf8)])
  }

  /// In a compressed archive only the log's last ``ContainerLog/tailLimit`` bytes and the one before them are
  /// kept as it is decompressed: nothing of it is spilled, and the tail is the same as from the whole log.
  @Test func aCompressedArchiveKeepsOnlyTheEnd() throws {
    let directory = try TemporaryDirectory()
    let limit = Int(ContainerLog.tailLimit)
    // A newline just before the last `limit` bytes: the first line read is whole.
    let log = Array("yyyyyyyyyy\n".utf8) + Array(repeating: UInt8(0x78), count: limit - 6) + Array("\nlast\n".utf8)
    var members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).compactMap {
      entry, bytes in entry.kind == .regular && entry.path != "ctr.log" ? .file(entry.path, bytes) : nil
    }
    members.append(.file("ctr.log", log))
    try TestArchive.write(members, to: directory.file("log.tar.gz"), compression: .gzip)
    var options = InspectOptions()
    options.log = true
    let source = try CheckpointSource(path: directory.file("log.tar.gz"), selection: options.selection)
    #expect(try source.randomAccess("ctr.log") is SparseBytes)
    #expect(try source.size(of: "ctr.log") == Int64(log.count))
    let tail = try #require(try ContainerLog(source: source, lines: 5))
    #expect(tail.lines == [Array(repeating: 0x78, count: limit - 6), Array("last".utf8)] && !tail.partialFirstLine)
    let whole = try ContainerLog.tail(of: InMemoryBytes(log), size: Int64(log.count), lines: 5)
    #expect(whole.lines == tail.lines && whole.partial == tail.partialFirstLine)
  }

  /// Any bytes are kept as they are (the renderers make them printable).
  @Test func bytesAreKept() throws {
    let bytes: [UInt8] = [0xFF, 0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x00, 0x0A, 0xC3, 0x28, 0x0A]
    let result = try ContainerLog.tail(of: InMemoryBytes(bytes), size: Int64(bytes.count), lines: 5)
    #expect(result.lines == [[0xFF, 0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x00], [0xC3, 0x28]])
  }
}
