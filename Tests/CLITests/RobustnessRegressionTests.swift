import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The inputs a fuzz campaign found to trap, hang or print a multi-line error (issue #14), each built from a
/// fixture with the project's own image decoder and encoder: every one must give exit 1 and exactly one
/// `Error:` line naming the file, in bounded time.
@Suite struct RobustnessRegressionTests {
  /// Runs the binary, killing it after `seconds` (a hang is a failure, not a stuck test run).
  static func run(_ arguments: [String], seconds: Double = 60) throws -> (CommandResult, timedOut: Bool) {
    let command = try CLI.start(arguments)
    let deadline = Date().addingTimeInterval(seconds)
    while command.process.isRunning && Date() < deadline { usleep(20_000) }
    let timedOut = command.process.isRunning
    if timedOut { command.kill() }
    return (command.wait(), timedOut)
  }

  /// Exit 1, no signal, and stderr is exactly one `Error:` line that contains every string of `naming`.
  static func expectOneErrorLine(
    _ result: CommandResult, timedOut: Bool, naming: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(!timedOut, "did not finish in time", sourceLocation: sourceLocation)
    #expect(!result.signaled, "killed by a signal: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.status == 1, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "not one line: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)", sourceLocation: sourceLocation)
    for name in naming {
      #expect(result.stderr.contains(name), "does not name \(name): \(result.stderr)", sourceLocation: sourceLocation)
    }
  }

  /// `busybox-needle.tar` with `member` replaced by `change(image)`, written as `name` (compressed by extension).
  static func mutatedNeedle(
    _ member: String, in directory: TemporaryDirectory, name: String = "mutated.tar",
    _ change: (inout ImageFile) throws -> Void
  ) throws -> String {
    try mutatedNeedle(members: { $0 == member }, in: directory, name: name, change)
  }

  /// busybox-needle.tar with every image `members` selects (by path) decoded, changed and encoded again.
  static func mutatedNeedle(
    members selected: (String) -> Bool, in directory: TemporaryDirectory, name: String,
    _ change: (inout ImageFile) throws -> Void
  ) throws -> String {
    let members = try TestArchive.read(Fixtures.path("busybox-needle.tar")).compactMap {
      entry, data -> TestArchive.Member? in
      switch entry.kind {
      case .regular:
        guard selected(entry.path) else { return .file(entry.path, data) }
        var image = try ImageFile(decoding: data)
        try change(&image)
        return .file(entry.path, try image.encoded())
      case .directory: return .directory(entry.path)
      default: return nil
      }
    }
    let path = directory.file(name)
    try TestArchive.write(members, to: path, compression: name.hasSuffix(".zst") ? .zstd : .none)
    return path
  }

  /// Rewrites the one `MmEntry` of an mm image.
  static func changeMM(_ image: inout ImageFile, _ change: (inout MmEntry) -> Void) throws {
    let index = try #require(image.entries.firstIndex { $0.message is MmEntry })
    var mm = try #require(image.entries[index].message as? MmEntry)
    change(&mm)
    image.entries[index].message = mm
  }

  // MARK: encode

  struct EncodeCase: Sendable, CustomTestStringConvertible {
    var number: String
    var testDescription: String { number }
  }

  /// 2^64, 2^64 written as a float, far beyond 2^64, and one below Int64's range: each is an error, no trap.
  @Test(
    arguments: ["18446744073709551616", "1.8446744073709552e19", "1e300", "-9223372036854775809"].map(EncodeCase.init))
  func encodeRejectsIntegersBeyond64Bits(_ testCase: EncodeCase) throws {
    let directory = try TemporaryDirectory()
    let decoded = try CLI.run(["decode", Fixtures.path("busybox-needle.tar") + ":checkpoint/inventory.img"])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    let pattern = try Regex(#""img_version": *[0-9]+"#)
    #expect(decoded.stdout.contains(pattern))
    let json = decoded.stdout.replacing(pattern, with: "\"img_version\": \(testCase.number)")
    try Files.write(Array(json.utf8), to: directory.file("inventory.json"))
    let (result, timedOut) = try Self.run(
      ["encode", "-i", directory.file("inventory.json"), "-o", directory.file("inventory.img")])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: ["inventory.json", "img_version"])
    #expect(!FileManager.default.fileExists(atPath: directory.file("inventory.img")))
  }

  /// `checkpointed.pods` may carry any JSON number in an unknown field: `insert` keeps it (written as Go's
  /// `MarshalIndent` writes a float64 of that value) instead of trapping when it rewrites the file.
  @Test func insertKeepsNumbersBeyond64BitsInUnknownFields() throws {
    let directory = try TemporaryDirectory()
    let original = try String(contentsOfFile: Fixtures.kubeletStore + "/checkpointed.pods", encoding: .utf8)
    let metadata = original.replacingOccurrences(
      of: "\"version\": 1,", with: "\"version\": 1,\n  \"x-huge\": 18446744073709551616,\n  \"x-float\": 1e20,")
    #expect(metadata != original)
    var members: [TestArchive.Member] = [.file("checkpointed.pods", Array(metadata.utf8))]
    for name in ["5b1f8a0c3d2e.tar", "9e4d7c21a6f0.tar"] {
      members.append(.file(name, try Files.read(Fixtures.kubeletStore + "/" + name)))
    }
    try TestArchive.write(members, to: directory.file("store.tar"))
    let (result, timedOut) = try Self.run(
      ["insert", "--input", directory.file("store.tar"), "--target", directory.file("target")])
    #expect(!timedOut && !result.signaled)
    #expect(result.status == 0, "\(result.stderr)")
    let written = try String(contentsOfFile: directory.file("target/checkpointed.pods"), encoding: .utf8)
    #expect(written.contains("\"x-huge\": 18446744073709552000"))
    #expect(written.contains("\"x-float\": 100000000000000000000"))
  }

  // MARK: memory

  /// A pagemap entry at 0xfffffffffffff000: its end is 2^64, beyond the address space.
  @Test(arguments: [
    ["memparse", "--search", "MEMPARSE_NEEDLE"], ["memparse", "--search", "MEMPARSE_NEEDLE", "--vma", "heap"],
    ["memparse", "--search-hex", "4d454d5041525345", "--format", "json"], ["memparse", "--pid", "1"], ["memparse"],
    ["inspect", "--mems"],
  ])
  func pagemapAtTheTopOfTheAddressSpace(_ command: [String]) throws {
    let directory = try TemporaryDirectory()
    let archive = try Self.mutatedNeedle("checkpoint/pagemap-1.img", in: directory) { image in
      let index = try #require(image.entries.lastIndex { $0.message is PagemapEntry })
      var entry = try #require(image.entries[index].message as? PagemapEntry)
      entry.vaddr = 0xffff_ffff_ffff_f000
      image.entries[index].message = entry
    }
    let (result, timedOut) = try Self.run(command + [archive])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: [archive, "checkpoint/pagemap-1.img"])
  }

  /// Two pagemap entries that cover the same pages.
  @Test func overlappingPagemapEntries() throws {
    let directory = try TemporaryDirectory()
    let archive = try Self.mutatedNeedle("checkpoint/pagemap-1.img", in: directory) { image in
      let indices = image.entries.indices.filter { image.entries[$0].message is PagemapEntry }
      try #require(indices.count >= 2)
      var second = try #require(image.entries[indices[1]].message as? PagemapEntry)
      let first = try #require(image.entries[indices[0]].message as? PagemapEntry)
      second.vaddr = first.vaddr
      image.entries[indices[1]].message = second
    }
    let (result, timedOut) = try Self.run(["memparse", "--search", "MEMPARSE_NEEDLE", archive])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: [archive, "checkpoint/pagemap-1.img", "overlap"])
  }

  struct VMACase: Sendable, CustomTestStringConvertible {
    var label: String
    var command: [String]
    var change: @Sendable (inout VmaEntry) -> Void
    var testDescription: String { "\(label): \(command.joined(separator: " "))" }
  }

  static let vmaCases: [VMACase] = {
    let backwards: @Sendable (inout VmaEntry) -> Void = { vma in
      vma.flags |= 1  // MAP_SHARED: counted in the size table's shared column
      vma.end = vma.start - 0x1000
    }
    let offset: @Sendable (inout VmaEntry) -> Void = { vma in vma.pgoff = 0xffff_ffff_ffff_f000 }
    let commands = [["memparse"], ["memparse", "--search", "MEMPARSE_NEEDLE"], ["memparse", "--pid", "1"]]
    return commands.map { VMACase(label: "end below start", command: $0, change: backwards) }
      + [
        VMACase(label: "end below start", command: ["inspect", "--all"], change: backwards),
        VMACase(label: "file offset beyond 64 bits", command: ["memparse", "--pid", "1"], change: offset),
      ]
  }()

  /// A VMA in `mm-1.img` whose end is below its start (the size table summed `end - start`), or whose file
  /// offset plus length leaves 64 bits.
  @Test(arguments: vmaCases)
  func malformedVMA(_ testCase: VMACase) throws {
    let directory = try TemporaryDirectory()
    let archive = try Self.mutatedNeedle("checkpoint/mm-1.img", in: directory) { image in
      try Self.changeMM(&image) { mm in
        if let index = mm.vmas.firstIndex(where: { $0.start > 0x10000 }) { testCase.change(&mm.vmas[index]) }
      }
    }
    let (result, timedOut) = try Self.run(testCase.command + [archive])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: [archive, "checkpoint/mm-1.img"])
  }

  /// `mm_arg_start` = 0x1000 makes the argument range about 128 TiB: the pages that hold it were looked up one
  /// by one (for a compressed archive, before reading it), which never ended.
  @Test(arguments: ["mutated.tar.zst", "mutated.tar"], ["tree", "json"])
  func argumentRangeSpanningTheAddressSpace(_ name: String, _ format: String) throws {
    let directory = try TemporaryDirectory()
    let archive = try Self.mutatedNeedle("checkpoint/mm-1.img", in: directory, name: name) { image in
      try Self.changeMM(&image) { $0.mmArgStart = 0x1000 }
    }
    let started = Date()
    let (result, timedOut) = try Self.run(["inspect", "--all", "--format", format, archive], seconds: 30)
    Self.expectOneErrorLine(
      result, timedOut: timedOut,
      naming: ["failed to process command line arguments", archive, "checkpoint/mm-1.img", "0x1000"])
    #expect(Date().timeIntervalSince(started) < 30)
  }

  // MARK: error lines

  /// A SandboxID with a newline (and an escape sequence) stays on the one `Error:` line, escaped.
  @Test func sandboxIDWithControlCharactersGivesOneErrorLine() throws {
    let directory = try TemporaryDirectory()
    let original = try String(contentsOfFile: Fixtures.kubeletStore + "/checkpointed.pods", encoding: .utf8)
    let metadata = original.replacingOccurrences(
      of: "\"SandboxID\": \"5b1f8a0c3d2e\"", with: "\"SandboxID\": \"5b1f\\nError: forged\\u001b[2J\"")
    #expect(metadata != original)
    try TestArchive.write(
      [
        .file("checkpointed.pods", Array(metadata.utf8)),
        .file("9e4d7c21a6f0.tar", try Files.read(Fixtures.kubeletStore + "/9e4d7c21a6f0.tar")),
      ], to: directory.file("store.tar"))
    let (result, timedOut) = try Self.run(
      ["insert", "--input", directory.file("store.tar"), "--target", directory.file("target")])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: ["store.tar", "5b1f\\nError: forged\\x1b[2J"])
    #expect(!result.stderr.contains("\u{1b}"))
    #expect(!FileManager.default.fileExists(atPath: directory.file("target/checkpointed.pods")))
  }

  /// An archive member whose name holds a newline, in `show` of a store archive.
  @Test func memberNameWithNewlineGivesOneErrorLine() throws {
    let directory = try TemporaryDirectory()
    try TestArchive.write([.file("x\nError: forged/../../y", [1])], to: directory.file("evil.tar"))
    let (result, timedOut) = try Self.run(
      ["insert", "--input", directory.file("evil.tar"), "--target", directory.file("target")])
    Self.expectOneErrorLine(result, timedOut: timedOut, naming: ["evil.tar"])
    #expect(!result.stderr.contains("\nError: forged"))
  }
}
