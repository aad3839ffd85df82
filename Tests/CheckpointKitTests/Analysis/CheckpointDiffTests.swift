import Foundation
import Glibc
import TestSupport
import Testing

@testable import CheckpointKit

/// `diff --pages --hexdump`: the rows are logged while the pages are compared, and the tree is rendered from
/// that log, never from the checkpoints.
@Suite struct CheckpointDiffHexdumpTests {
  /// The tree is rendered after both checkpoints are gone: it reads nothing of them.
  @Test func hexdumpRendersWithoutTheCheckpoints() throws {
    let directory = try TemporaryDirectory()
    var paths: [String] = []
    for (index, fixture) in ["busybox-diff-1.tar", "busybox-diff-2.tar"].enumerated() {
      let path = directory.file("side-\(index)")
      mkdir(path, 0o700)
      try Tool.run("tar", ["-xf", Fixtures.path(fixture), "-C", path])
      paths.append(path)
    }
    var options = CheckpointDiff.Options()
    options.pages = true
    options.hexdump = true
    let diff = try CheckpointDiff(paths[0], paths[1], options: options)
    for path in paths { try FileManager.default.removeItem(atPath: path) }
    let golden = try String(contentsOfFile: Fixtures.path("golden/diff/pages-hexdump.txt"), encoding: .utf8)
    // Twice: the log is read again, not used up.
    for _ in 0..<2 {
      var text = ""
      try diff.renderTree { text += $0 }
      #expect(text == golden)
    }
  }
}

/// ``HexRowLog``: rows on the 16-byte grid of their run's start, whatever pieces the run arrives in.
@Suite struct HexRowLogTests {
  struct Row: Equatable {
    var address: UInt64
    var a: [UInt8]
    var b: [UInt8]
  }

  /// A changed run: its start and both sides' bytes.
  struct Run {
    var start: UInt64
    var a: [UInt8]
    var b: [UInt8]

    /// The rows the hexdump has always shown: 16 bytes from the run's start (fewer at its end), where they differ.
    var expected: [Row] {
      stride(from: 0, to: a.count, by: 16).compactMap { offset in
        let end = min(offset + 16, a.count)
        let row = Row(address: start + UInt64(offset), a: Array(a[offset..<end]), b: Array(b[offset..<end]))
        return row.a == row.b ? nil : row
      }
    }
  }

  static let runs: [Run] = {
    let bytes = pseudoRandomBytes(count: 300_000)
    var sparse = Array(bytes[0..<1000])
    for index in stride(from: 5, to: sparse.count, by: 37) { sparse[index] ^= 0x5A }
    var last = Array(bytes[1000..<1037])
    last[36] ^= 1
    return [
      Run(start: 0x1000, a: Array(bytes[0..<1000]), b: sparse),
      // Ends off the grid: the last row is 5 bytes, and only its last byte differs.
      Run(start: 0x7f00_0000_0003, a: Array(bytes[1000..<1037]), b: last),
      // Every row differs: more rows than one batch read back.
      Run(start: 0x10, a: bytes, b: bytes.map { $0 ^ 0xFF }),
      Run(start: 0x5000, a: Array(bytes[0..<64]), b: Array(bytes[0..<64])),
    ]
  }()

  @Test(arguments: [1, 5, 16, 100, 4096])
  func rowsLieOnTheGridOfTheirRun(_ piece: Int) throws {
    let directory = try TemporaryDirectory()
    let writer = try HexRowLog.Writer(in: directory.path)
    // Private: unlinked at once, open only here.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    let links = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap {
      try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)
    }
    let name = URL(fileURLWithPath: directory.path).lastPathComponent + "/checkpointctl-diff-rows."
    #expect(links.contains { $0.contains(name) && $0.hasSuffix(" (deleted)") })
    var spans: [Range<Int64>] = []
    for run in Self.runs {
      let first = writer.count
      var offset = 0
      var size = piece
      while offset < run.a.count {
        let count = min(size, run.a.count - offset)
        try run.a.withUnsafeBytes { a in
          try run.b.withUnsafeBytes { b in
            try writer.append(
              address: run.start + UInt64(offset), UnsafeRawBufferPointer(rebasing: a[offset..<offset + count]),
              UnsafeRawBufferPointer(rebasing: b[offset..<offset + count]))
          }
        }
        offset += count
        // Pieces of varying size, so they start and end anywhere on the grid.
        size = piece + size % 23
      }
      try writer.endRun()
      spans.append(first..<writer.count)
    }
    let log = try writer.finish()
    #expect(log.count == Int64(Self.runs.reduce(0) { $0 + $1.expected.count }))
    for (run, span) in zip(Self.runs, spans) {
      var rows: [Row] = []
      try log.rows(span) { rows.append(Row(address: $0, a: $1, b: $2)) }
      #expect(rows == run.expected)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
  }
}
