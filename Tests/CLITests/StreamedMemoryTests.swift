import Foundation
import Glibc
import TestSupport
import Testing

/// Issue #23: the memory of a compressed archive is read while it is decompressed, with no temporary copy, when
/// the archive's order allows it; otherwise it is buffered, and a `$TMPDIR` that cannot take it is named.
@Suite struct StreamedMemoryTests {
  /// The memory commands compared, each given the checkpoint last.
  static let commands: [[String]] = [
    ["memparse", "--search", "NEEDLE", "--context", "12"],
    ["memparse", "--search-regex", "NEEDLE[A-Za-z_0-9]*"],
    ["memparse", "--search-hex", "4e4545444c45"],
    ["memparse", "--search", "NEEDLE", "--format", "json", "-c", "40"],
    ["memparse", "--search", "NEEDLE", "--pid", "1", "--vma", "heap"],
    ["memparse", "--pid", "1", "--vma", "heap,stack"],
    ["memparse", "--pid", "1", "--vma", "stack", "--format", "json"],
    ["memparse", "--pid", "1", "--raw"],
  ]

  /// A `$TMPDIR` nothing can be made in (the tests may run as root, which ignores permission bits).
  static func unusable(_ directory: TemporaryDirectory) -> [String: String] {
    ["TMPDIR": directory.file("no-such-tmp")]
  }

  /// `fixture` unpacked into `directory/unpacked`.
  static func unpack(_ fixture: String, into directory: TemporaryDirectory) throws -> String {
    let unpacked = directory.file("unpacked")
    try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
    try Tool.run("tar", ["xf", Fixtures.path(fixture), "-C", unpacked])
    return unpacked
  }

  /// Runs `command` on `streamed` (with `environment`) and on `reference` in `directory`: the same status and
  /// output, the reference's name replaced.
  static func expectSame(
    _ command: [String], _ streamed: String, _ reference: String, in directory: String,
    environment: [String: String] = [:]
  ) throws {
    let result = try CLI.run(command + [streamed], in: directory, environment: environment)
    let expected = try CLI.run(command + [reference], in: directory)
    #expect(result.status == 0, "\(command): \(result.stderr)")
    #expect(expected.status == 0, "\(command): \(expected.stderr)")
    #expect(result.stdout == expected.stdout.replacingOccurrences(of: reference, with: streamed), "\(command)")
    #expect(result.stderr == expected.stderr.replacingOccurrences(of: reference, with: streamed), "\(command)")
  }

  /// Name-ordered compressed archives (as Podman writes them): every memory command gives what it gives on the
  /// same archive uncompressed (read in place), with a `$TMPDIR` in which no file can be made.
  @Test(arguments: ["busybox-memhog64.tar.zst", "busybox-shm.tar.gz", "busybox-sleep.tar.zst"])
  func nameOrderedArchivesNeedNoTemporaryFile(_ fixture: String) throws {
    let directory = try TemporaryDirectory()
    let compressed = fixture.hasSuffix(".zst") ? "c.tar.zst" : "c.tar.gz"
    try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: directory.file(compressed))
    try Tool.run(
      "sh", ["-c", "\(fixture.hasSuffix(".zst") ? "zstd" : "gzip") -dc \(compressed) > c.tar"], in: directory.path)
    let environment = Self.unusable(directory)
    // The 64 MiB process is searched once (debug builds and sanitizers are slow); the others get every command.
    for command in fixture.hasPrefix("busybox-memhog") ? Array(Self.commands.prefix(1)) : Self.commands {
      try Self.expectSame(command, compressed, "c.tar", in: directory.path, environment: environment)
    }
    // Dumps to a file, and cores: the same bytes.
    for (flags, name) in [(["--vma", "stack"], "dump.txt"), (["--raw", "--vma", "stack,heap"], "dump.raw")] {
      for input in [compressed, "c.tar"] {
        let result = try CLI.run(
          ["memparse", "--pid", "1", "-o", "\(input).\(name)"] + flags + [input], in: directory.path,
          environment: input == compressed ? environment : [:])
        #expect(result.status == 0, "\(result.stderr)")
      }
      #expect(
        try Files.read(directory.file("\(compressed).\(name)")) == Files.read(directory.file("c.tar.\(name)")))
    }
    for input in [compressed, "c.tar"] {
      let result = try CLI.run(
        ["coredump", "-o", "\(input).cores", input], in: directory.path,
        environment: input == compressed ? environment : [:])
      #expect(result.status == 0, "\(result.stderr)")
    }
    let cores = try FileManager.default.contentsOfDirectory(atPath: directory.file("c.tar.cores")).sorted()
    #expect(!cores.isEmpty)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.file("\(compressed).cores")).sorted() == cores)
    for core in cores {
      #expect(
        try Files.read(directory.file("\(compressed).cores/\(core)"))
          == Files.read(directory.file("c.tar.cores/\(core)")))
    }
  }

  /// `tar cf` with the pages before their pagemap: the pages are buffered (same results), and when `$TMPDIR`
  /// cannot take them, one line says which member, how big, why, and where.
  @Test func pagesBeforeTheirPagemapAreBuffered() throws {
    let directory = try TemporaryDirectory()
    let unpacked = try Self.unpack("busybox-memhog64.tar.zst", into: directory)
    let rest = try Tool.run("sh", ["-c", "find . -type f ! -name pages-1.img | sort"], in: unpacked)
      .split(separator: "\n").map(String.init)
    try Tool.run("tar", ["cf", directory.file("p.tar"), "./checkpoint/pages-1.img"] + rest, in: unpacked)
    try Tool.run("zstd", ["-q", "p.tar", "-o", "p.tar.zst"], in: directory.path)
    for command in [Self.commands[0], ["memparse", "--pid", "1", "--vma", "stack"]] {
      try Self.expectSame(command, "p.tar.zst", "p.tar", in: directory.path)
    }
    for command in [
      ["memparse", "--search", "NEEDLE"], ["memparse", "--pid", "1", "--raw"], ["coredump", "-o", "cores"],
    ] {
      let result = try CLI.run(command + ["p.tar.zst"], in: directory.path, environment: Self.unusable(directory))
      #expect(result.status == 1)
      #expect(
        result.stderr
          == "Error: p.tar.zst: pages-1.img (64.1 MiB) must be buffered because it comes before its pagemap; "
          + "cannot write in \(directory.file("no-such-tmp")): no such file or directory (set TMPDIR)\n")
      #expect(result.stdout == "")
    }
  }

  /// An archive holding `mm-1.img` twice, the second copy after the pages: the memory streamed with the first
  /// copy's layout is not what the whole archive says. A search is made again without streaming; a dump to a
  /// file is redone; a dump already on standard output cannot be taken back and fails.
  @Test func aLayoutChangedAfterThePagesIsNotTrusted() throws {
    let directory = try TemporaryDirectory()
    let unpacked = try Self.unpack("busybox-memhog64.tar.zst", into: directory)
    let members = try Tool.run("sh", ["-c", "find . -type f | sort"], in: unpacked).split(separator: "\n").map(
      String.init)
    try Tool.run("tar", ["cf", directory.file("d.tar")] + members, in: unpacked)
    let other = try Self.unpack("busybox-sleep.tar", into: directory)
    try Tool.run("tar", ["rf", directory.file("d.tar"), "./checkpoint/mm-1.img"], in: other)
    try Tool.run("zstd", ["-q", "d.tar", "-o", "d.tar.zst"], in: directory.path)
    try Self.expectSame(Self.commands[0], "d.tar.zst", "d.tar", in: directory.path)
    for input in ["d.tar.zst", "d.tar"] {
      #expect(
        try CLI.run(["memparse", "--pid", "1", "--raw", "-o", "\(input).txt", input], in: directory.path).status == 0)
    }
    #expect(try Files.read(directory.file("d.tar.zst.txt")) == Files.read(directory.file("d.tar.txt")))
    let result = try CLI.run(["memparse", "--pid", "1", "--raw", "--vma", "stack", "d.tar.zst"], in: directory.path)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: d.tar.zst: the images after pages-1.img change the memory"))
  }
}
