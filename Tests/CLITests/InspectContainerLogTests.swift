import Archive
import Foundation
import SystemSupport
import TestSupport
import Testing

/// `inspect --log` and `--log-lines`: the end of the container log Podman, CRI-O or containerd saved.
@Suite struct InspectContainerLogTests {
  typealias Saved = InspectSavedContentTests

  static let ttyLog = [
    "2026-11-29T12:22:49.035274566+00:00 stdout F ", "2026-11-29T12:22:49.035274566+00:00 stdout F ",
    "2026-11-29T12:22:49.035274566+00:00 stdout F BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) built-in shell (ash)",
    "2026-11-29T12:22:49.035274566+00:00 stdout F Enter 'help' for a list of built-in commands.",
    "2026-11-29T12:22:49.035274566+00:00 stdout F ", "2026-11-29T12:22:49.035274566+00:00 stdout P / # \u{1B}[6n",
  ]

  /// MANIFEST (busybox-tty): the shell's banner on a terminal, the prompt's cursor query as an escape sequence.
  @Test func logOfBusyboxTty() throws {
    let result = try CLI.run(["inspect", "--log", "busybox-tty.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let escaped = Self.ttyLog.map { $0.replacingOccurrences(of: "\u{1B}", with: "\\x1b") }
    #expect(
      Saved.section("Container log", of: result.stdout) == ["Container log (ctr.log, 401 B, last 6 lines)"] + escaped)
    #expect(result.stdout.hasSuffix("└── 2026-11-29T12:22:49.035274566+00:00 stdout P / # \\x1b[6n\n\n"))
    #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\r"))
    let json = try Saved.object(
      try CLI.run(["inspect", "--format", "json", "--log", "busybox-tty.tar"], in: Fixtures.root))
    #expect(
      json["container_log"]
        == .object([
          "name": .string("ctr.log"), "size": .integer(401), "lines": .array(Self.ttyLog.map(JSONValue.string)),
          "partial_first_line": .bool(false),
        ]))
    #expect(json["devshm"] == nil && json["volumes"] == nil)
  }

  @Test func logLines() throws {
    let two = try CLI.run(["inspect", "--log-lines", "2", "busybox-tty.tar"], in: Fixtures.root)
    #expect(two.status == 0, "\(two.stderr)")
    #expect(Saved.section("Container log", of: two.stdout).count == 3)
    #expect(two.stdout.contains("── Container log (ctr.log, 401 B, last 2 lines)\n"))
    let one = try CLI.run(["inspect", "--log", "--log-lines", "1", "busybox-tty.tar"], in: Fixtures.root)
    #expect(one.stdout.contains("── Container log (ctr.log, 401 B, last line)\n    └── 2026"))
    let none = try CLI.run(["inspect", "--log-lines=0", "--format=json", "busybox-tty.tar"], in: Fixtures.root)
    #expect((try Saved.object(none))["container_log"]?.member("lines") == .array([]))
    let zero = try CLI.run(["inspect", "--log-lines=0", "busybox-tty.tar"], in: Fixtures.root)
    #expect(zero.stdout.hasSuffix("└── Container log (ctr.log, 401 B)\n\n"))
    for arguments in [["--log-lines=-1"], ["--log-lines", "x"], ["--log-lines"]] {
      let bad = try CLI.run(["inspect"] + arguments + ["busybox-tty.tar"], in: Fixtures.root)
      #expect(bad.status == 1 && bad.stdout == "")
      #expect(bad.stderr.hasPrefix("Error: ") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }
  }

  struct LogCase: Sendable, CustomTestStringConvertible {
    var member: String
    var checkpoint: String
    var compression: ArchiveFilter = .none
    var testDescription: String { "\(member) in \(checkpoint)" }
  }

  /// Each engine's name for the log, in an archive (plain and compressed) and in a directory.
  @Test(arguments: [
    LogCase(member: "ctr.log", checkpoint: "podman.tar.gz", compression: .gzip),
    LogCase(member: "container.log", checkpoint: "containerd.tar"),
    LogCase(member: "io.kubernetes.cri-o.LogPath", checkpoint: "crio.tar"),
    LogCase(member: "io.kubernetes.cri-o.LogPath", checkpoint: "crio.tar.zst", compression: .zstd),
    LogCase(member: "container.log", checkpoint: "containerd-directory"),
  ])
  func eachEnginesLog(_ test: LogCase) throws {
    let directory = try TemporaryDirectory()
    let log = (1...60).map { "2026-11-29T12:00:00.000000000+00:00 stdout F line \($0)\n" }.joined()
    let path = try Saved.checkpoint(
      test.checkpoint, in: directory, compression: test.compression, extra: [.file(test.member, Array(log.utf8))])
    let result = try CLI.run(["inspect", "--log", path])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = Saved.section("Container log", of: result.stdout)
    #expect(lines.first == "Container log (\(test.member), 3.1 KiB, last 50 lines)")
    #expect(lines.dropFirst().first == "2026-11-29T12:00:00.000000000+00:00 stdout F line 11")
    #expect(lines.last == "2026-11-29T12:00:00.000000000+00:00 stdout F line 60" && lines.count == 51)
  }

  /// No log (Podman's journald driver), or a member by a log's name that is not a regular file: never read, the
  /// checkpoint has no log.
  @Test(arguments: ["plain.tar", "symlink.tar", "directory.tar", "symlink", "fifo", "subdirectory"])
  func noLog(_ name: String) throws {
    let directory = try TemporaryDirectory()
    let extra: [TestArchive.Member]
    switch name {
    case "symlink.tar": extra = [.symlink("ctr.log", to: "/etc/passwd"), .symlink("container.log", to: "config.dump")]
    case "directory.tar": extra = [.directory("ctr.log"), .file("ctr.log/inner", Array("x\n".utf8))]
    default: extra = []
    }
    let path = try Saved.checkpoint(name, in: directory, extra: extra)
    switch name {
    case "symlink": symlink("/etc/passwd", path + "/ctr.log")
    case "fifo": mkfifo(path + "/ctr.log", 0o600)
    case "subdirectory": mkdir(path + "/container.log", 0o700)
    default: break
    }
    let result = try CLI.run(["inspect", "--log", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasSuffix("└── Container log: not in the checkpoint\n\n"))
    let json = try Saved.object(try CLI.run(["inspect", "--log", "--format", "json", path]))
    #expect(json["container_log"] == .null)
  }

  /// Control characters, bytes that are not UTF-8 and a carriage return in the middle: every line printed on one
  /// line, nothing sent to the terminal as it is; JSON has the text with U+FFFD for the bad bytes.
  @Test func hostileBytesArePrintedSafely() throws {
    let directory = try TemporaryDirectory()
    let log: [UInt8] =
      Array("plain ✓\n".utf8) + [0x1B, 0x5D, 0x30, 0x3B, 0x74, 0x69, 0x74, 0x6C, 0x65, 0x07] + Array("osc\n".utf8)
      + [0x62, 0x61, 0x64, 0xFF, 0xC3, 0x0D, 0x6F, 0x76, 0x65, 0x72, 0x00, 0x0A] + Array("last\r\n".utf8)
    let path = try Saved.checkpoint("hostile.tar", in: directory, extra: [.file("ctr.log", log)])
    let result = try CLI.run(["inspect", "--log", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      Saved.section("Container log", of: result.stdout) == [
        "Container log (ctr.log, \(log.count) B, last 4 lines)", "plain ✓", "\\x1b]0;title\\x07osc",
        "bad\\xff\\xc3\\x0dover\\x00",
        "last",
      ])
    #expect(!result.stdoutBytes.contains { $0 < 0x20 && $0 != 0x0A })
    let json = try Saved.object(try CLI.run(["inspect", "--log", "--format", "json", path]))
    #expect(
      json["container_log"]?.member("lines")
        == .array([
          .string("plain ✓"), .string("\u{1B}]0;title\u{07}osc"), .string("bad\u{FFFD}\u{FFFD}\rover\0"),
          .string("last"),
        ]))
  }

  /// An 8 GiB sparse log in a checkpoint directory: only its end is read.
  @Test func aHugeLogInADirectory() throws {
    let directory = try TemporaryDirectory()
    let path = try Saved.checkpoint("huge", in: directory)
    let fd = open(path + "/ctr.log", O_WRONLY | O_CREAT, 0o600)
    #expect(fd >= 0 && ftruncate(fd, 8 << 30) == 0 && lseek(fd, 0, SEEK_END) == 8 << 30)
    _ = "first\nsecond\nthird\n".withCString { write(fd, $0, 19) }
    close(fd)
    let result = try CLI.run(["inspect", "--log-lines", "2", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      Saved.section("Container log", of: result.stdout) == [
        "Container log (ctr.log, 8.0 GiB, last 2 lines)", "second", "third",
      ])
  }

  /// A log larger than the 16 MiB a compressed archive keeps of the members read at offsets: only its end is kept
  /// as it is decompressed.
  @Test func aLargeLogInACompressedArchive() throws {
    let directory = try TemporaryDirectory()
    let log = (0..<700_000).map { "log line \($0) of the large log\n" }.joined()
    let path = try Saved.checkpoint(
      "large.tar.gz", in: directory, compression: .gzip, extra: [.file("ctr.log", Array(log.utf8))])
    let result = try CLI.run(["inspect", "--log-lines", "3", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      Saved.section("Container log", of: result.stdout).dropFirst() == [
        "log line 699997 of the large log", "log line 699998 of the large log", "log line 699999 of the large log",
      ])
  }
}
