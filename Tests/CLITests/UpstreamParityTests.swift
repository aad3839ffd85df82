import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// Issue #18: upstream v1.6's behaviour, with archives built the way its users (and its bats suite) build them:
/// `tar cf` of a directory holding `config.dump`, `spec.dump`, `network.status` and `mkdir checkpoint`.
@Suite struct UpstreamParityTests {
  static let compressions = ["none", "zstd"]

  /// Podman's `network.status` of a container on two networks (as upstream's `network.status.multi`).
  static let twoNetworks = """
    {"net1": {"interfaces": {"eth0": {"subnets": [{"ipnet": "10.89.0.2/24", "gateway": "10.89.0.1"}],
      "mac_address": "32:ba:b8:45:bc:84"}}},
     "net2": {"interfaces": {"eth1": {"subnets": [{"ipnet": "10.89.1.2/24", "gateway": "10.89.1.1"}],
      "mac_address": "5e:b7:fe:ee:e0:d8"}}}}
    """

  // MARK: several networks

  /// Every network, in upstream's order, joined by ", " in the JSON; one branch per interface in the tree, at the
  /// lines upstream's tests read (stdout and stderr merged).
  @Test(arguments: compressions)
  func everyNetworkIsShown(_ compression: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.write(Self.twoNetworks, to: "network.status")
    for input in [try checkpoint.pack(compression: compression), checkpoint.root] {
      let tree = try CLI.runMerged(["inspect", input])
      #expect(tree.status == 0, "\(tree.output)")
      let lines = nonEmptyLines(tree.output)
      #expect(lines[6].contains("Podman"))
      #expect(lines[7] == "├── Network Interfaces")
      #expect(
        Array(lines[8...15]) == [
          "│   ├── net1 (eth0)", "│   │   ├── IP: 10.89.0.2/24", "│   │   ├── MAC: 32:ba:b8:45:bc:84",
          "│   │   └── Gateway: 10.89.0.1", "│   └── net2 (eth1)", "│       ├── IP: 10.89.1.2/24",
          "│       ├── MAC: 5e:b7:fe:ee:e0:d8", "│       └── Gateway: 10.89.1.1",
        ])
      let json = try CLI.run(["inspect", "--format", "json", input])
      let object = try #require(try JSONValue(parsing: Array(json.stdout.utf8)).arrayValue?.first?.objectValue)
      #expect(object["ip"] == .string("10.89.0.2, 10.89.1.2"))
      #expect(object["mac"] == .string("32:ba:b8:45:bc:84, 5e:b7:fe:ee:e0:d8"))
      let networks = try #require(object["networks"]?.arrayValue)
      #expect(networks.map { $0.objectValue?["name"] } == [.string("net1"), .string("net2")])
      #expect(
        networks[1].objectValue?["interfaces"]?.objectValue?["eth1"]?.objectValue?["gateway"] == .string("10.89.1.1"))
    }
  }

  // MARK: warnings and notes after the output

  /// A `network.status` that is not JSON: the tree stays where upstream prints it, the warning comes last.
  @Test(arguments: compressions)
  func aWarningComesAfterTheOutput(_ compression: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.write("not-valid-json\n", to: "network.status")
    let archive = try checkpoint.pack(compression: compression)
    for format in ["tree", "json"] {
      let result = try CLI.runMerged(["inspect", "--format", format, archive, archive])
      #expect(result.status == 0, "\(result.output)")
      let lines = nonEmptyLines(result.output)
      if format == "tree" {
        #expect(lines[6].contains("Podman"))
        #expect(lines[14].contains("Podman"))
      } else {
        #expect(lines[0] == "[")
      }
      // Both warnings, after everything else.
      #expect(lines.suffix(2).allSatisfy { $0.hasPrefix("Warning: \(archive):network.status is not valid JSON") })
      #expect(lines.dropLast(2).allSatisfy { !$0.hasPrefix("Warning:") })
    }
  }

  /// `coredump` notes the zombie it skips after its summary lines.
  @Test func coredumpNotesComeAfterTheSummary() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.runMerged(["coredump", "-o", directory.path, Fixtures.path("raw/piggie")])
    #expect(result.status == 0, "\(result.output)")
    let lines = nonEmptyLines(result.output)
    #expect(lines.last?.hasPrefix("Note: ") == true)
    #expect(lines.dropLast().allSatisfy { !$0.hasPrefix("Note: ") })
  }

  // MARK: metadata must be regular files

  enum Irregular: String, CaseIterable, CustomTestStringConvertible {
    case symlink, fifo, directory
    var testDescription: String { rawValue }

    /// Replaces `name` in `root` with a file of this type (a link points to a valid copy of the file).
    func make(_ name: String, in root: String) throws {
      let path = root + "/" + name
      switch self {
      case .symlink:
        #expect(rename(path, root + "/real-" + name) == 0)
        #expect(Glibc.symlink("real-" + name, path) == 0)
      case .fifo:
        unlink(path)
        #expect(mkfifo(path, 0o600) == 0)
      case .directory:
        unlink(path)
        #expect(Glibc.mkdir(path, 0o700) == 0)
      }
    }
  }

  /// A symlink, FIFO or directory under a metadata name is refused by name, in a directory and in an archive, and
  /// never followed or opened (a FIFO would block a reader).
  @Test(arguments: ["config.dump", "spec.dump", "network.status"], Irregular.allCases)
  func metadataMustBeARegularFile(_ name: String, _ kind: Irregular) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.add(["network.status"])
    try kind.make(name, in: checkpoint.root)
    let inputs = [checkpoint.root, try checkpoint.pack(), try checkpoint.pack("test.tar.zst", compression: "zstd")]
    let commands = name == "network.status" ? [["inspect"]] : [["show"], ["inspect"], ["inspect", "--all"]]
    for input in inputs {
      for command in commands {
        let running = try CLI.start(command + [input])
        let killer = DispatchWorkItem { running.kill() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: killer)
        let result = running.wait()
        killer.cancel()
        #expect(!result.signaled, "\(command) \(input) hung")
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "Error: \(input)/\(name) is not a regular file\n", "\(command)")
      }
    }
  }

  /// A UNIX socket under a metadata name (only a directory can hold one: tar skips sockets).
  @Test func aSocketIsNotMetadata() throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    checkpoint.remove("spec.dump")
    let path = checkpoint.root + "/spec.dump"
    let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    try #require(bound == 0)
    let result = try CLI.run(["show", checkpoint.root])
    #expect(result.status == 1)
    #expect(result.stderr == "Error: \(checkpoint.root)/spec.dump is not a regular file\n")
  }

  // MARK: compat_nr_pages

  /// busybox-needle with every pagemap entry's page count moved from `nr_pages` (what CRIU 4.2 writes) to
  /// `compat_nr_pages` (all that CRIU before 4 wrote).
  static func compatPagemaps(in directory: TemporaryDirectory, name: String) throws -> String {
    try RobustnessRegressionTests.mutatedNeedle(
      members: { Path.base(of: $0).hasPrefix("pagemap-") }, in: directory, name: name
    ) { image in
      for index in image.entries.indices {
        guard var pagemap = image.entries[index].message as? PagemapEntry else { continue }
        #expect(pagemap.hasNrPages && pagemap.compatNrPages == 0)
        pagemap.compatNrPages = UInt32(pagemap.nrPages)
        pagemap.clearNrPages()
        image.entries[index].message = pagemap
      }
    }
  }

  /// Every command that reads memory gives the same result from either page count.
  @Test(arguments: ["compat.tar", "compat.tar.zst"])
  func oldPagemapsGiveTheSameMemory(_ name: String) throws {
    let directory = try TemporaryDirectory()
    let compat = try Self.compatPagemaps(in: directory, name: name)
    let original = Fixtures.path("busybox-needle.tar")
    let commands = [
      ["memparse"], ["memparse", "--pid", "1"], ["memparse", "--pid", "1", "--raw"],
      ["memparse", "--search", "MEMPARSE_NEEDLE", "--pid", "1"], ["memparse", "--search-regex", "MEMPARSE_[A-Z]+"],
      ["inspect", "--ps-tree-cmd", "--ps-tree-env", "--mems", "--format", "json"],
    ]
    for command in commands {
      let old = try CLI.run(command + [compat])
      let new = try CLI.run(command + [original])
      #expect(old.status == 0, "\(command): \(old.stderr)")
      #expect(new.status == 0, "\(command): \(new.stderr)")
      #expect(old.stdoutBytes.count > 100, "\(command)")
      if command[0] == "inspect" {
        // The archives' sizes differ (the pagemaps are re-encoded); the processes must not.
        func tree(_ text: String) throws -> JSONValue? {
          try JSONValue(parsing: Array(text.utf8)).arrayValue?.first?.objectValue?["process_tree"]
        }
        #expect(try tree(old.stdout) == tree(new.stdout))
        #expect(try tree(old.stdout) != nil)
      } else {
        #expect(old.stdout.replacingOccurrences(of: compat, with: original) == new.stdout, "\(command)")
      }
    }
    let diff = try CLI.run(["diff", "--pages", "--format", "json", original, compat])
    #expect(diff.status == 0, "\(diff.stderr)")
    let pages = try #require(try JSONValue(parsing: Array(diff.stdout.utf8)).objectValue?["page_changes"]?.arrayValue)
    #expect(pages.count == 2)
    for process in pages.compactMap(\.objectValue) {
      #expect((process["unchanged_bytes"]?.integerValue ?? 0) > 0)
      for key in ["changed_bytes", "added_bytes", "removed_bytes"] { #expect(process[key] == .integer(0), "\(key)") }
    }
    let oldCores = directory.file("old")
    let newCores = directory.file("new")
    #expect(try CLI.run(["coredump", "-o", oldCores, compat]).status == 0)
    #expect(try CLI.run(["coredump", "-o", newCores, original]).status == 0)
    let cores = try FileManager.default.contentsOfDirectory(atPath: newCores).sorted()
    #expect(!cores.isEmpty)
    for core in cores {
      #expect(try Files.read(oldCores + "/" + core) == Files.read(newCores + "/" + core), "\(core)")
    }
  }

  // MARK: inspect --all on any checkpoint

  /// `criu dump` then `tar`: `stats-dump` stays in the image directory, and some images are absent.
  @Test(arguments: compressions)
  func allShowsWhatTheCheckpointHas(_ compression: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.add(images: ["pstree.img", "core-*", "mm-*", "pagemap-*", "pages-*"])
    try Files.write(
      try #require(UpstreamStyleCheckpoint.source["stats-dump"]), to: checkpoint.root + "/checkpoint/stats-dump")
    for input in [try checkpoint.pack(compression: compression), checkpoint.root] {
      let stats = try CLI.run(["inspect", "--stats", input])
      #expect(stats.status == 0, "\(stats.stderr)")
      #expect(stats.stdout.contains("── CRIU dump statistics"))

      let all = try CLI.runMerged(["inspect", "--all", input])
      #expect(all.status == 0, "\(all.output)")
      let lines = nonEmptyLines(all.output)
      #expect(lines.contains { $0.hasSuffix("── CRIU dump statistics") })
      #expect(lines.contains { $0.hasSuffix("[1]  python3 -u /netapp.py 10.88.0.1:7000") })
      #expect(!all.output.contains("Open files"))
      // One note per view left out, naming it and the missing file, after the tree.
      let notes = lines.filter { $0.hasPrefix("Note: ") }
      #expect(
        notes == [
          "Note: \(input): --files is not shown: failed to get file descriptors: \(input): checkpoint/files.img: no such file or directory",
          "Note: \(input): --sockets is not shown: failed to get sockets: failed to get file descriptors: \(input): checkpoint/files.img: no such file or directory",
        ])
      #expect(Array(lines.suffix(2)) == notes)

      let json = try CLI.run(["inspect", "--all", "--format", "json", input])
      #expect(json.status == 0)
      let object = try #require(try JSONValue(parsing: Array(json.stdout.utf8)).arrayValue?.first?.objectValue)
      #expect(object["statistics"] != nil && object["process_tree"] != nil)
      #expect(object["file_descriptors"] == nil && object["sockets"] == nil)

      // A view asked for by its own flag still fails, with upstream's phrase.
      let named = try CLI.run(["inspect", "--all", "--files", input])
      #expect(named.status == 1)
      #expect(
        named.stderr
          == "Error: failed to get file descriptors: \(input): checkpoint/files.img: no such file or directory\n")
    }
  }

  /// A checkpoint of metadata alone: `--all` shows it with a note per view; a view asked for by name, and
  /// `memparse`, say that the checkpoint holds no CRIU images.
  @Test func metadataAloneSaysItHoldsNoImages() throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    let archive = try checkpoint.pack()
    let noImages = ": the checkpoint holds no CRIU images (checkpoint/ is empty)"
    let all = try CLI.runMerged(["inspect", "--all", archive])
    #expect(all.status == 0, "\(all.output)")
    let notes = nonEmptyLines(all.output).filter { $0.hasPrefix("Note: ") }
    #expect(
      notes == [
        "Note: \(archive): --stats is not shown: failed to get dump statistics: \(archive): stats-dump: no such file or directory\(noImages)",
        "Note: \(archive): --ps-tree is not shown: failed to get process tree: \(archive): checkpoint/pstree.img: no such file or directory\(noImages)",
      ])
    let memparse = try CLI.run(["memparse", archive])
    #expect(memparse.status == 1)
    #expect(memparse.stderr == "Error: \(archive): checkpoint/pstree.img: no such file or directory\(noImages)\n")
    let search = try CLI.run(["memparse", "--search", "x", "--pid", "1", archive])
    #expect(search.stderr.hasSuffix("\(noImages)\n"))
  }

  // MARK: flags

  @Test func unknownFlagsInUpstreamsWords() throws {
    let long = try CLI.run(["--wrong-parameter"])
    #expect(long.status == 1)
    #expect(long.stderr == "Error: unknown flag: --wrong-parameter\n")
    let short = try CLI.run(["inspect", "-z", "x.tar"])
    #expect(short.status == 1)
    #expect(short.stderr == "Error: unknown shorthand flag: 'z' in -z\n")
  }
}
