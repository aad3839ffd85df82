import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct ExtractInsertTests {
  @Test func extractThenInsertMovesEveryByte() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    let result = try CLI.run(["extract", "-t", source, "-o", directory.file("pods.tar.zst")])
    #expect(result.status == 0)
    #expect(result.stdout == "\nExtracting checkpoint data from \(source)/checkpointed.pods\n\n")
    #expect(Files.permissions(directory.file("pods.tar.zst")) == 0o600)
    // Members sit at the archive root, and the compression is what was asked for.
    let reader = try ArchiveReader(path: directory.file("pods.tar.zst"))
    var names: [String] = []
    while let entry = try reader.next() { names.append(entry.path) }
    #expect(names == ["checkpointed.pods", "5b1f8a0c3d2e.tar", "9e4d7c21a6f0.tar"])
    #expect(reader.compression == .zstd)

    let target = directory.file("node-b/checkpoints")
    let inserted = try CLI.run(["insert", "-i", directory.file("pods.tar.zst"), "-t", target])
    #expect(inserted.status == 0)
    #expect(inserted.stdout == "")
    for name in ["checkpointed.pods", "5b1f8a0c3d2e.tar", "9e4d7c21a6f0.tar"] {
      #expect(try Files.read(target + "/" + name) == (try Files.read(source + "/" + name)), "\(name)")
      #expect(Files.permissions(target + "/" + name) == 0o600)
    }
    #expect(Files.permissions(target) == 0o700)
    let shown = try CLI.run(["show", "-t", target])
    let original = try CLI.run(["show", "-t", source])
    #expect(shown.stdout.replacingOccurrences(of: target, with: source) == original.stdout)
  }

  /// The same store gives the same archive, byte for byte.
  @Test func extractIsDeterministic() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory)
    for name in ["a.tar.zst", "b.tar.zst"] {
      let result = try CLI.run(["extract", "-t", source, "-o", directory.file(name)])
      #expect(result.status == 0, "\(result.stderr)")
    }
    let first = try Files.read(directory.file("a.tar.zst"))
    #expect(first.count > 1000)
    #expect(first == (try Files.read(directory.file("b.tar.zst"))))
  }

  @Test func extractToStandardOutput() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory)
    let result = try CLI.run(["extract", "-t", source, "-o", "-", "-c", "gzip"], in: directory.path)
    #expect(result.status == 0)
    #expect(result.stderr.contains("Extracting checkpoint data from"))
    #expect(!FileManager.default.fileExists(atPath: directory.file("-")))
    try Files.write(result.stdoutBytes, to: directory.file("out"))
    let members = try TestArchive.read(directory.file("out"))
    #expect(members.map { $0.0.path } == ["checkpointed.pods", "5b1f8a0c3d2e.tar", "9e4d7c21a6f0.tar"])
    #expect(members[1].1 == (try Files.read(source + "/5b1f8a0c3d2e.tar")))
    #expect(try ArchiveReader(path: directory.file("out")).compressionAfterFirstEntry() == .gzip)
  }

  @Test func compressionFollowsTheFlagThenTheExtension() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory)
    let cases: [(String, [String], ArchiveFilter)] = [
      ("a.tar", [], .zstd), ("b.tar.gz", [], .gzip), ("c.tar.gz", ["-c", "NONE"], .none),
      ("d.tgz", ["-c", "zstd"], .zstd),
      ("e.tar.xz", [], .xz),
    ]
    for (name, flags, expected) in cases {
      let result = try CLI.run(["extract", "-t", source, "-o", directory.file(name)] + flags)
      #expect(result.status == 0, "\(name)")
      #expect(try ArchiveReader(path: directory.file(name)).compressionAfterFirstEntry() == expected, "\(name)")
    }
  }

  @Test func reinsertingChangesNothing() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "a")
    #expect(try CLI.run(["extract", "-t", source, "-o", directory.file("x.tar")]).status == 0)
    let target = directory.file("b")
    #expect(try CLI.run(["insert", "-t", target, "-i", directory.file("x.tar")]).status == 0)
    let before = try Files.snapshot(target)
    let again = try CLI.run(["insert", "-t", target, "-i", directory.file("x.tar")])
    #expect(again.status == 0)
    #expect(Files.same(before, try Files.snapshot(target)))
    let metadata = try CheckpointMetadata(json: try Files.read(target + "/checkpointed.pods"), source: "t")
    #expect(metadata.pods.count == 2)
  }

  @Test func insertAppendsToAnExistingStoreKeepingUnknownFields() throws {
    let directory = try TemporaryDirectory()
    let one = try KubeletFixtures.single(
      in: directory, named: "one", sandboxID: "s1", extraFields: #", "clusterName": "east""#)
    let two = try KubeletFixtures.single(
      in: directory, named: "two", sandboxID: "s2", extraFields: #", "migratedBy": {"tool": "x"}"#)
    // An unknown pod-level field in the inserted file.
    var twoMetadata = try CheckpointMetadata(json: try Files.read(two + "/checkpointed.pods"), source: "t")
    twoMetadata.pods[0].fields["podIP"] = .string("10.88.0.7")
    try Files.write(twoMetadata.serialized(), to: two + "/checkpointed.pods")

    #expect(try CLI.run(["extract", "-t", two, "-o", directory.file("two.tar")]).status == 0)
    let result = try CLI.run(["insert", "-t", one, "-i", directory.file("two.tar")])
    #expect(result.status == 0, "\(result.stderr)")
    let merged = try CheckpointMetadata(json: try Files.read(one + "/checkpointed.pods"), source: "t")
    #expect(merged.pods.map(\.sandboxID) == ["s1", "s2"])
    #expect(merged.fields["clusterName"] == .string("east"))
    #expect(merged.fields["migratedBy"] == .object(["tool": .string("x")]))
    #expect(merged.pods[1].fields["podIP"] == .string("10.88.0.7"))
    #expect(merged.version == .integer(1))
    #expect(try Files.read(one + "/s2.tar") == (try Files.read(two + "/s2.tar")))
  }

  @Test func conflictsLeaveTheTargetUntouched() throws {
    let directory = try TemporaryDirectory()
    let target = try KubeletFixtures.single(in: directory, named: "target", sandboxID: "s1", size: 5000)
    // Same SandboxID, different archive content.
    let otherData = try KubeletFixtures.single(in: directory, named: "data", sandboxID: "s1", size: 6000)
    try Files.write(try Files.read(target + "/checkpointed.pods"), to: otherData + "/checkpointed.pods")
    // Same SandboxID, same archive, different metadata.
    let otherMeta = try KubeletFixtures.single(in: directory, named: "meta", sandboxID: "s1", size: 5000)
    var metadata = try CheckpointMetadata(json: try Files.read(otherMeta + "/checkpointed.pods"), source: "t")
    metadata.pods[0].fields["io.kubernetes.pod.namespace"] = .string("other")
    try Files.write(metadata.serialized(), to: otherMeta + "/checkpointed.pods")
    // A different version.
    let otherVersion = try KubeletFixtures.single(in: directory, named: "version", sandboxID: "s9")
    var versioned = try CheckpointMetadata(json: try Files.read(otherVersion + "/checkpointed.pods"), source: "t")
    versioned.fields["version"] = .integer(2)
    try Files.write(versioned.serialized(), to: otherVersion + "/checkpointed.pods")

    for (store, expected) in [
      (otherData, "pod archive s1.tar in"), (otherMeta, "already present with different metadata"),
      (otherVersion, "\"version\""),
    ] {
      #expect(try CLI.run(["extract", "-t", store, "-o", store + ".tar"]).status == 0)
      let before = try Files.snapshot(target)
      let result = try CLI.run(["insert", "-t", target, "-i", store + ".tar"])
      #expect(result.status == 1)
      #expect(result.stderr.hasPrefix("Error: "))
      #expect(result.stderr.contains(expected), "\(result.stderr)")
      #expect(result.stderr.contains("nothing was changed"))
      #expect(Files.same(before, try Files.snapshot(target)), "\(store)")
    }
  }

  @Test func concurrentInsertsBothLand() throws {
    let directory = try TemporaryDirectory()
    var archives: [String] = []
    for index in 0..<6 {
      let store = try KubeletFixtures.single(
        in: directory, named: "src\(index)", sandboxID: "pod\(index)", size: 3 << 20)
      #expect(try CLI.run(["extract", "-t", store, "-o", store + ".tar", "-c", "none"]).status == 0)
      archives.append(store + ".tar")
    }
    let target = directory.file("target")
    let running = try archives.map { try CLI.start(["insert", "-t", target, "-i", $0]) }
    for command in running {
      let result = command.wait()
      #expect(result.status == 0, "\(result.stderr)")
    }
    let metadata = try CheckpointMetadata(json: try Files.read(target + "/checkpointed.pods"), source: "t")
    #expect(Set(metadata.pods.map(\.sandboxID)) == Set((0..<6).map { "pod\($0)" }))
    #expect(metadata.pods.count == 6)
    for index in 0..<6 {
      #expect(
        try Files.read("\(target)/pod\(index).tar") == (try Files.read(directory.file("src\(index)/pod\(index).tar"))))
    }
  }

  @Test func killedInsertLeavesValidMetadata() throws {
    let directory = try TemporaryDirectory()
    let base = try KubeletFixtures.single(in: directory, named: "base", sandboxID: "base")
    var archives: [String] = []
    for index in 0..<3 {
      let store = try KubeletFixtures.single(
        in: directory, named: "big\(index)", sandboxID: "big\(index)", size: 40 << 20)
      #expect(try CLI.run(["extract", "-t", store, "-o", store + ".tar", "-c", "zstd"]).status == 0)
      archives.append(store + ".tar")
    }
    var interrupted = 0
    for (round, delay) in [20_000, 150_000, 400_000].enumerated() {
      let command = try CLI.start(["insert", "-t", base, "-i", archives[round]])
      usleep(useconds_t(delay))
      command.kill()
      _ = command.wait()
      // Whatever moment it died at, the metadata is complete and valid and show works.
      let metadata = try CheckpointMetadata(json: try Files.read(base + "/checkpointed.pods"), source: "t")
      #expect(metadata.pods.first?.sandboxID == "base")
      if !metadata.pods.contains(where: { $0.sandboxID == "big\(round)" }) { interrupted += 1 }
      #expect(try CLI.run(["show", "-t", base]).status == 0)
      // Running the insert again completes it.
      let again = try CLI.run(["insert", "-t", base, "-i", archives[round]])
      #expect(again.status == 0, "\(again.stderr)")
      #expect(
        try Files.read("\(base)/big\(round).tar") == (try Files.read(directory.file("big\(round)/big\(round).tar"))))
    }
    // At least one kill landed before the insert committed, so the test exercised a real interruption.
    #expect(interrupted > 0)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: base).filter { $0.hasPrefix(".") }
    #expect(leftovers.isEmpty)
    let metadata = try CheckpointMetadata(json: try Files.read(base + "/checkpointed.pods"), source: "t")
    #expect(metadata.pods.map(\.sandboxID) == ["base", "big0", "big1", "big2"])
  }

  @Test func insertWritesOnlyListedArchives() throws {
    let directory = try TemporaryDirectory()
    let metadata = #"{"version":1,"CheckpointedPods":[{"SandboxID":"p1","Containers":[]}]}"#
    try TestArchive.write(
      [
        .file("stray.tar", [1]), .file("p1.tar", [2]), .file("notes.txt", [3]), .directory("sub"),
        .file("sub/p1.tar", [4]),
        .file("checkpointed.pods", Array(metadata.utf8)), .file("late.tar", [5]),
      ],
      to: directory.file("in.tar"))
    let result = try CLI.run(["insert", "-t", directory.file("t"), "-i", directory.file("in.tar")])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.file("t")).sorted() == [
        "checkpointed.pods", "p1.tar",
      ])
    #expect(try Files.read(directory.file("t/p1.tar")) == [2])
  }
}

extension ArchiveReader {
  /// The detected compression (libarchive knows it once the first header is read).
  func compressionAfterFirstEntry() throws -> ArchiveFilter? {
    _ = try next()
    return compression
  }
}

@Suite struct ProgressTests {
  /// `script` gives the command a terminal, so the progress line must appear on it; through a pipe it must not.
  @Test func progressOnlyOnATerminalForLargeData() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
    let directory = try TemporaryDirectory()
    let store = try KubeletFixtures.single(in: directory, named: "big", sandboxID: "big", size: 80 << 20)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    let command = "\(CLI.binary) extract -t \(store) -o \(directory.file("out.tar")) -c none"
    process.arguments = ["-qec", command, directory.file("typescript")]
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let screen = String(decoding: try Files.read(directory.file("typescript")), as: UTF8.self)
    #expect(screen.contains("Extracting: 80.0 MiB of 80.0 MiB (100%)"), "\(screen.suffix(300))")
    let piped = try CLI.run(["extract", "-t", store, "-o", directory.file("out2.tar"), "-c", "none"])
    #expect(piped.status == 0)
    #expect(!piped.stderr.contains("Extracting:"))
  }
}

/// Kubelet-API container checkpoints (`checkpoint-*.tar`, no `checkpointed.pods`) move with the same guarantees.
@Suite struct ContainerArchiveMoveTests {
  static let names = [
    "checkpoint-fx-pod_default-fx-podctr-2026-11-29T12:21:24Z.tar",
    "checkpoint-fx-sleep_default-fx-sleep-2026-11-29T12:19:10Z.tar",
  ]

  static func node(in directory: TemporaryDirectory) throws -> String {
    let path = directory.file("node-a")
    mkdir(path, 0o700)
    try Files.write(try Files.read(Fixtures.path("busybox-in-pod.tar")), to: path + "/" + names[0])
    try Files.write(try Files.read(Fixtures.path("busybox-sleep.tar")), to: path + "/" + names[1])
    try Files.write([1, 2, 3], to: path + "/unrelated.txt")
    return path
  }

  @Test func extractAndInsertCarryThem() throws {
    let directory = try TemporaryDirectory()
    let source = try Self.node(in: directory)
    let extracted = try CLI.run(["extract", "-t", source, "-o", directory.file("move.tar.zst")])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(try TestArchive.read(directory.file("move.tar.zst")).map { $0.0.path } == Self.names)
    let target = directory.file("node-b")
    let inserted = try CLI.run(["insert", "-t", target, "-i", directory.file("move.tar.zst")])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == Self.names)
    for name in Self.names {
      #expect(try Files.read(target + "/" + name) == (try Files.read(source + "/" + name)))
      #expect(Files.permissions(target + "/" + name) == 0o600)
    }
    // Again: nothing changes.
    let before = try Files.snapshot(target)
    #expect(try CLI.run(["insert", "-t", target, "-i", directory.file("move.tar.zst")]).status == 0)
    #expect(Files.same(before, try Files.snapshot(target)))
    // show on the new node lists the containers.
    let shown = try CLI.run(["show", "-t", target])
    #expect(shown.status == 0)
    #expect(shown.stdout.contains("fx-sleep") && shown.stdout.contains("fx-podctr"))
  }

  @Test func aDifferentFileOfTheSameNameIsAConflict() throws {
    let directory = try TemporaryDirectory()
    let source = try Self.node(in: directory)
    #expect(try CLI.run(["extract", "-t", source, "-o", directory.file("move.tar")]).status == 0)
    let target = directory.file("node-b")
    mkdir(target, 0o700)
    try Files.write([9, 9, 9], to: target + "/" + Self.names[1])
    let before = try Files.snapshot(target)
    let result = try CLI.run(["insert", "-t", target, "-i", directory.file("move.tar")])
    #expect(result.status == 1)
    #expect(result.stderr.contains(Self.names[1]) && result.stderr.contains("nothing was changed"), "\(result.stderr)")
    #expect(Files.same(before, try Files.snapshot(target)))
  }
}
