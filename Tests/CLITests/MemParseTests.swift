import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import Rendering
import SystemSupport
import TestSupport
import Testing

@Suite struct MemParseTests {
  @Test(arguments: ["busybox-needle.tar", "busybox-shm.tar.gz", "busybox-memhog64.tar.zst", "busybox-ptree.tar"])
  func sizeTableMatchesUpstream(_ fixture: String) throws {
    let result = try CLI.run(["memparse", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let reference = try String(
      contentsOfFile: Fixtures.path("reference-output/\(fixture).memparse.txt"), encoding: .utf8)
    // Upstream's row order is random for trees; ours is by pid.
    #expect(Set(result.stdout.split(separator: "\n")) == Set(reference.split(separator: "\n")))
    #expect(result.stdout == (try Fixtures.golden("memparse/\(fixture).txt", actual: result.stdout)))
  }

  @Test func hexdumpMatchesGoldenAndShowsDifferingRows() throws {
    let result = try CLI.run(["memparse", "--pid", "7", "busybox-needle.tar"], in: Fixtures.root)
    #expect(result.status == 0)
    #expect(result.stdout == (try Fixtures.golden("memparse/busybox-needle-pid-7.txt", actual: result.stdout)))
    // Upstream collapsed these two rows (same ASCII, different bytes); they must both be shown.
    #expect(result.stdout.contains("0000000000401af0  c5 fb 93 c0 85 c0 75 98 62 f3 7d 20 3f 47 03 00"))
    #expect(result.stdout.contains("0000000000401b00  c5 fb 93 c0 85 c0 75 98 62 f3 7d 20 3f 47 04 00"))
  }

  @Test func starNeverHidesDifferentBytes() throws {
    var rows: [UInt8] = []
    rows += [UInt8](repeating: 0x41, count: 16)
    rows += [UInt8](repeating: 0x41, count: 16)  // identical: collapses
    rows += [UInt8](repeating: 0x41, count: 16)
    rows += [0x01] + [UInt8](repeating: 0x41, count: 15)  // same ASCII (".AAA…" vs "AAAA") differs anyway
    rows += [0x02] + [UInt8](repeating: 0x41, count: 15)  // same ASCII as the row above, different byte
    var text: [UInt8] = []
    let dump = HexDump(compact: true) { text += $0 }
    try rows.withUnsafeBytes { try dump.write(address: 0x1000, bytes: $0) }
    dump.endRange()
    try dump.flush()
    let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
    // The run ends where the next printed address starts (as in hexdump(1)); differing rows always print.
    #expect(lines.count == 4)
    #expect(lines[1] == "*")
    #expect(lines[2].hasPrefix("0000000000001030  01"))
    #expect(lines[3].hasPrefix("0000000000001040  02"))
    // A run that reaches the end of a range prints its last row, so a gap is never implied to repeat.
    var tail: [UInt8] = []
    let ending = HexDump(compact: true) { tail += $0 }
    try [UInt8](repeating: 7, count: 64).withUnsafeBytes { try ending.write(address: 0x2000, bytes: $0) }
    ending.endRange()
    try ending.flush()
    #expect(String(decoding: tail, as: UTF8.self).split(separator: "\n").last?.hasPrefix("0000000000002030") == true)
  }

  @Test func outputFileIsPrivateAndComplete() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.run(
      ["memparse", "--pid", "1", "busybox-needle.tar", "-o", directory.file("dump.txt")], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("to file: \(directory.file("dump.txt"))"))
    #expect(Files.permissions(directory.file("dump.txt")) == 0o600)
    let text = String(decoding: try Files.read(directory.file("dump.txt")), as: UTF8.self)
    #expect(!text.contains("\n*\n"))
    #expect(text.split(separator: "\n").count == 2 + 72 * 1024 / 16)
  }

  @Test func rawDumpHoldsTheMemory() throws {
    let directory = try TemporaryDirectory()
    let output = directory.file("memory.bin")
    let result = try CLI.run(
      ["memparse", "--pid", "1", "--raw", "-o", output, "busybox-memhog64.tar.zst"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let memory = try CheckpointSource(path: Fixtures.path("busybox-memhog64.tar.zst")).memory(pid: 1)
    let file = try FileDescriptor(path: output, flags: O_RDONLY)
    #expect(Int64(try file.status().st_size) == MemoryDump.size(of: memory))
    // The ranges are concatenated in address order: each needle sits at its range's running offset.
    let needles: [(UInt64, String)] = [
      (0x7fdb_53de_7ff6, "MEMHOG_NEEDLE_straddle_7f3a9c"), (0x7fdb_579f_ffc0, "MEMHOG_NEEDLE_tail_7f3a9c"),
      (0x3415_d8f0, "MEMHOG_NEEDLE_mid_7f3a9c"),
    ]
    for (address, text) in needles {
      var offset: UInt64 = 0
      for range in memory.ranges() {
        if (range.address..<range.address + range.length).contains(address) {
          offset += address - range.address
          break
        }
        offset += range.length
      }
      var bytes = [UInt8](repeating: 0, count: text.utf8.count)
      _ = try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: Int64(offset)) }
      #expect(String(decoding: bytes, as: UTF8.self) == text)
    }
  }

  @Test(arguments: [
    (["memparse", "--pid", "99", "busybox-needle.tar"], "no process with PID 99"),
    (["memparse", "--pid", "6", "raw/piggie"], "process 6 is a zombie task: it has no memory"),
    (["memparse", "--pid", "1", "busybox-needle.tar", "busybox-shm.tar.gz"], "--pid takes exactly one checkpoint"),
    (["memparse"], "Missing expected argument"),
    (["memparse", "missing.tar"], "stat missing.tar: no such file or directory"),
  ])
  func errors(_ arguments: [String], _ message: String) throws {
    let result = try CLI.run(arguments, in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
  }

  @Test func badInputsAreReportedAndTheRestShown() throws {
    let result = try CLI.run(["memparse", "missing.tar", "busybox-needle.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr == "Error: stat missing.tar: no such file or directory\n")
    #expect(result.stdout.contains("Displaying processes memory sizes from busybox-needle.tar"))
  }
}
