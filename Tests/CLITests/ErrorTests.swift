import CheckpointKit
import Foundation
import Glibc
import TestSupport
import Testing

/// Every failure is one `Error:` line on stderr and exit status 1, naming the user's file, never a temp path.
@Suite struct ErrorTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var arguments: [String]
    var message: String
    var testDescription: String { name }
  }

  /// Builds the files the cases refer to in `directory`.
  static func prepare(_ directory: TemporaryDirectory) throws {
    _ = try KubeletFixtures.example(in: directory)
    mkdir(directory.file("nometa"), 0o700)
    mkdir(directory.file("badjson"), 0o700)
    try Files.write(Array("{ not json".utf8), to: directory.file("badjson/checkpointed.pods"))
    _ = try KubeletFixtures.single(in: directory, named: "missing", sandboxID: "gone")
    unlink(directory.file("missing/gone.tar"))
    _ = try KubeletFixtures.single(in: directory, named: "isdir", sandboxID: "d")
    unlink(directory.file("isdir/d.tar"))
    mkdir(directory.file("isdir/d.tar"), 0o700)
    _ = try KubeletFixtures.single(in: directory, named: "unsafe", sandboxID: "x")
    try Files.write(
      Array(#"{"CheckpointedPods":[{"SandboxID":"../../etc/evil"}]}"#.utf8),
      to: directory.file("unsafe/checkpointed.pods"))
    try Files.write(Array("plain text, not a tar archive\n".utf8), to: directory.file("notar"))
    try Files.write([], to: directory.file("empty.tar"))
    try TestArchive.write([.file("other.txt", [1])], to: directory.file("nometa.tar"))
    let pods = Array(#"{"CheckpointedPods":[{"SandboxID":"p"}]}"#.utf8)
    try TestArchive.write([.file("checkpointed.pods", pods)], to: directory.file("nosandbox.tar"))
    try TestArchive.write([.file("checkpointed.pods", pods), .file("../p.tar", [1])], to: directory.file("dotdot.tar"))
    try TestArchive.write(
      [.file("checkpointed.pods", pods), .file("/etc/p.tar", [1])], to: directory.file("absolute.tar"))
    try TestArchive.write(
      [.file("checkpointed.pods", pods), .symlink("p.tar", to: "/etc/passwd")], to: directory.file("symlink.tar"))
    try TestArchive.write(
      [.file("checkpointed.pods", pods), .special("p.tar", .blockDevice)], to: directory.file("device.tar"))
    let evil = Array(#"{"CheckpointedPods":[{"SandboxID":"../escape"}]}"#.utf8)
    try TestArchive.write(
      [.file("checkpointed.pods", evil), .file("../escape.tar", [1])], to: directory.file("evilid.tar"))
    let slash = Array(#"{"CheckpointedPods":[{"SandboxID":"a/b"}]}"#.utf8)
    try TestArchive.write(
      [.file("checkpointed.pods", slash), .file("a/b.tar", [1])], to: directory.file("slashid.tar"))
    let bytes = try Files.read(Fixtures.path("busybox-sleep.tar.zst"))
    try Files.write(Array(bytes[0..<(bytes.count / 2)]), to: directory.file("truncated.tar.zst"))
  }

  static let cases: [Case] = [
    Case(
      name: "missing target", arguments: ["show", "-t", "does-not-exist"],
      message: "target does-not-exist does not exist"),
    Case(name: "no metadata", arguments: ["show", "-t", "nometa"], message: "nometa/checkpointed.pods does not exist"),
    Case(
      name: "invalid JSON", arguments: ["show", "-t", "badjson"],
      message: "badjson/checkpointed.pods is not valid checkpoint metadata: not valid JSON"),
    Case(
      name: "non-tar target", arguments: ["show", "-t", "notar"], message: "reading notar: Unrecognized archive format"),
    Case(
      name: "empty archive target", arguments: ["show", "-t", "empty.tar"],
      message: "empty.tar is not a kubelet checkpoint archive"),
    Case(name: "truncated archive", arguments: ["show", "-t", "truncated.tar.zst"], message: "truncated.tar.zst"),
    Case(name: "bad format", arguments: ["show", "-t", "store", "--format", "yaml"], message: "yaml"),
    Case(name: "unknown flag", arguments: ["show", "--wrong-parameter"], message: "--wrong-parameter"),
    Case(name: "unknown command", arguments: ["frobnicate"], message: "frobnicate"),
    Case(name: "extract without output", arguments: ["extract", "-t", "store"], message: "--output"),
    Case(
      name: "unknown compression", arguments: ["extract", "-t", "store", "-o", "out.tar", "-c", "lz4"],
      message: "compression algorithm \"lz4\" is not supported"),
    Case(
      name: "missing sandbox", arguments: ["extract", "-t", "missing", "-o", "out.tar"],
      message: "pod archive missing/gone.tar does not exist"),
    Case(
      name: "sandbox not a file", arguments: ["extract", "-t", "isdir", "-o", "out.tar"],
      message: "pod archive isdir/d.tar is not a regular file"),
    Case(
      name: "unsafe SandboxID in store", arguments: ["extract", "-t", "unsafe", "-o", "out.tar"],
      message: "SandboxID \"../../etc/evil\""),
    Case(
      name: "extract from a file", arguments: ["extract", "-t", "notar", "-o", "out.tar"],
      message: "target notar is not a directory"),
    Case(
      name: "extract into missing directory", arguments: ["extract", "-t", "store", "-o", "nodir/out.tar"],
      message: "nodir"),
    Case(name: "insert without input", arguments: ["insert", "-t", "target"], message: "--input"),
    Case(
      name: "insert missing input", arguments: ["insert", "-t", "target", "-i", "nope.tar"],
      message: "cannot open nope.tar: no such file or directory"),
    Case(
      name: "insert non-tar", arguments: ["insert", "-t", "target", "-i", "notar"],
      message: "reading notar: Unrecognized archive format"),
    Case(
      name: "insert empty tar", arguments: ["insert", "-t", "target", "-i", "empty.tar"],
      message: "empty.tar is not a kubelet checkpoint archive"),
    Case(
      name: "insert without metadata", arguments: ["insert", "-t", "target", "-i", "nometa.tar"],
      message: "nometa.tar is not a kubelet checkpoint archive"),
    Case(
      name: "insert without sandbox", arguments: ["insert", "-t", "target", "-i", "nosandbox.tar"],
      message: "nosandbox.tar lists pod archive p.tar but does not contain it"),
    Case(
      name: "member with ..", arguments: ["insert", "-t", "target", "-i", "dotdot.tar"],
      message: "unsafe member \"../p.tar\""),
    Case(
      name: "absolute member", arguments: ["insert", "-t", "target", "-i", "absolute.tar"],
      message: "unsafe member \"/etc/p.tar\": absolute path"),
    Case(
      name: "symlink member", arguments: ["insert", "-t", "target", "-i", "symlink.tar"],
      message: "unsafe member \"p.tar\": link to absolute path /etc/passwd"),
    Case(
      name: "device member", arguments: ["insert", "-t", "target", "-i", "device.tar"],
      message: "of unsupported type block device"),
    Case(
      name: "SandboxID with ..", arguments: ["insert", "-t", "target", "-i", "evilid.tar"],
      message: "SandboxID \"../escape\", which cannot name a file"),
    Case(
      name: "SandboxID with /", arguments: ["insert", "-t", "target", "-i", "slashid.tar"],
      message: "SandboxID \"a/b\", which cannot name a file"),
    Case(name: "insert into a file", arguments: ["insert", "-t", "notar", "-i", "nometa.tar"], message: "notar"),
  ]

  @Test(arguments: cases)
  func failsWithOneErrorLine(_ testCase: Case) throws {
    let directory = try TemporaryDirectory()
    try Self.prepare(directory)
    let before = try Files.snapshot(directory.path)
    let result = try CLI.run(testCase.arguments, in: directory.path)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
    #expect(result.stderr.contains(testCase.message), "\(result.stderr)")
    #expect(!result.stderr.contains("checkpointctl-tmp"))
    #expect(!result.stderr.contains("Fatal error"))
    let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
    #expect(errorLines.count == 1)
    // Nothing was created or changed anywhere: no output file, no partial insert, nothing outside.
    let after = try Files.snapshot(directory.path)
    let changed = Set(after.keys).union(before.keys).filter { key in
      guard let a = after[key], let b = before[key] else { return true }
      return a.0 != b.0 || a.1 != b.1
    }
    #expect(changed.isEmpty, "changed: \(changed.sorted())")
    #expect(!FileManager.default.fileExists(atPath: "/etc/p.tar"))
  }

  @Test func versionAndHelpSucceed() throws {
    let version = try CLI.run(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout == "checkpointctl version \(version.stdout.split(separator: " ").last ?? "")")
    #expect(version.stdout.hasPrefix("checkpointctl version "))
    let help = try CLI.run(["--help"])
    #expect(help.status == 0)
    for command in ["show", "extract", "insert"] { #expect(help.stdout.contains(command)) }
    let completion = try CLI.run(["completion", "bash"])
    #expect(completion.status == 0)
    #expect(completion.stdout.contains("checkpointctl"))
  }
}
