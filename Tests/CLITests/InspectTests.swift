import Archive
import CRIU
import CheckpointKit
import Foundation
import SystemSupport
import TestSupport
import Testing

/// Upstream's output with the trailing space it leaves after every command line removed.
func withoutTrailingSpaces(_ text: String) -> String {
  text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
    var line = Substring(line)
    while line.hasSuffix(" ") { line.removeLast() }
    return String(line)
  }.joined(separator: "\n")
}

@Suite struct InspectTests {
  /// Fixtures whose plain `inspect` output upstream prints deterministically (INDEX.tsv).
  @Test(arguments: containerFixtures)
  func baseTreeMatchesUpstream(_ fixture: String) throws {
    let result = try CLI.run(["inspect", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    #expect(result.stdout == (try referenceOutput("\(fixture).inspect.txt")))
  }

  @Test func baseTreeGolden() throws {
    let result = try CLI.run(["inspect", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(result.stdout == (try Fixtures.golden("inspect/busybox-sleep.txt", actual: result.stdout)))
  }

  struct FlagCase: CustomTestStringConvertible, Sendable {
    var fixture: String
    var flag: String
    var testDescription: String { "\(fixture) --\(flag)" }
  }

  static let deterministicFlags: [FlagCase] = ["busybox-ptree.tar", "debian-net.tar.gz", "busybox-tty.tar"].flatMap {
    fixture in ["ps-tree", "stats", "mounts"].map { FlagCase(fixture: fixture, flag: $0) }
  }

  @Test(arguments: deterministicFlags)
  func flagMatchesUpstream(_ test: FlagCase) throws {
    let result = try CLI.run(["inspect", "--\(test.flag)", test.fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try referenceOutput("\(test.fixture).inspect-\(test.flag).txt")))
  }

  @Test(arguments: ["busybox-ptree.tar", "debian-net.tar.gz", "busybox-tty.tar"])
  func commandLinesMatchUpstreamWithoutTrailingSpace(_ fixture: String) throws {
    let result = try CLI.run(["inspect", "--ps-tree-cmd", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == withoutTrailingSpaces(try referenceOutput("\(fixture).inspect-ps-tree-cmd.txt")))
    #expect(!result.stdout.contains(" \n"))
  }

  @Test func processTreeOfBusyboxPtree() throws {
    let result = try CLI.run(["inspect", "--ps-tree-cmd", "busybox-ptree.tar"], in: Fixtures.root)
    for line in [
      "[1]  sh /ptree.sh", "[9]  sleep 1000", "[10]  sleep 1001", "[11]  sh /ptree.sh", "[19]  sleep 1",
      "[12]  sleep 1002", "[20]  sleep 1",
    ] {
      #expect(result.stdout.contains(line + "\n"), "\(line)")
    }
  }

  @Test func environmentIsSortedAndComplete() throws {
    let result = try CLI.run(["inspect", "--ps-tree-env", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let expected = """
      │   └── [1]  sh
      │       ├── Environment variables
      │       │   ├── FOO=bar
      │       │   ├── HOME=/root
      │       │   ├── HOSTNAME=462fa0cea7f3
      │       │   ├── PATH=/bin:/sbin:/usr/bin:/usr/sbin
      │       │   ├── SECRET_TOKEN=hunter2
      │       │   ├── TERM=xterm
      │       │   └── container=podman

      """.replacingOccurrences(of: "│   └── [1]", with: "    └── [1]").replacingOccurrences(
        of: "\n│       ", with: "\n        ")
    #expect(result.stdout.contains(expected), "\(result.stdout)")
    // Every process has the planted secret; the five children also have PWD and SHLVL.
    #expect(result.stdout.components(separatedBy: "SECRET_TOKEN=hunter2\n").count == 8)
    #expect(result.stdout.components(separatedBy: "─ PWD=/\n").count == 6)
    #expect(result.stdout == (try Fixtures.golden("inspect/busybox-ptree-env.txt", actual: result.stdout)))
  }

  @Test func metadataAnnotationsAreSorted() throws {
    let result = try CLI.run(["inspect", "--metadata", "debian-net.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let reference = try referenceOutput("debian-net.tar.gz.inspect-metadata.txt")
    // Same lines as upstream (whose order is random), ours sorted.
    func annotationLines(_ text: String) -> [String] {
      text.split(separator: "\n").filter { $0.hasPrefix("        ") }.map { String($0.dropFirst(12)) }.sorted()
    }
    #expect(annotationLines(result.stdout) == annotationLines(reference))
    let keys = result.stdout.split(separator: "\n").filter { $0.hasPrefix("        ") }.map {
      String($0.dropFirst(12).prefix { $0 != ":" })
    }
    #expect(keys == keys.sorted())
    #expect(!keys.isEmpty)
    #expect(result.stdout == (try Fixtures.golden("inspect/debian-net-metadata.txt", actual: result.stdout)))
  }

  @Test func pidPrunesTheTree() throws {
    let result = try CLI.run(["inspect", "--ps-tree", "--pid", "11", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasSuffix("└── Process tree\n    └── [11]  sh\n        └── [19]  sleep\n\n"))
  }

  @Test func unknownPidIsAnError() throws {
    let result = try CLI.run(["inspect", "--ps-tree", "--pid", "999", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr == "Error: no process with PID 999 (use `inspect --ps-tree` to view all PIDs)\n")
  }

  @Test func invalidFormatIsRejectedBeforeReading() throws {
    let result = try CLI.run(["inspect", "--format", "xml", "missing.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr == "Error: invalid output format: xml\n")
  }

  /// `criu dump`'s output as it is (a directory, or a tar of one in any compression): `inspect` shows what the
  /// images say, the same for every form; `show` still wants a container checkpoint.
  @Test func bareImageDirectoryIsInspected() throws {
    let directory = try TemporaryDirectory()
    let plain = directory.file("piggie.tar")
    let packed = directory.file("piggie.tar.zst")
    try Tool.run("tar", ["-cf", plain, "."], in: Fixtures.path("raw/piggie"))
    try Tool.run("tar", ["--zstd", "-cf", packed, "."], in: Fixtures.path("raw/piggie"))
    let fromDirectory = try CLI.run(["inspect", "--all", "raw/piggie"], in: Fixtures.root)
    #expect(fromDirectory.status == 0, "\(fromDirectory.stderr)")
    #expect(fromDirectory.stderr == "")
    let lines = fromDirectory.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[3] == "CRIU images")
    #expect(lines[4] == "├── Engine: CRIU")
    #expect(lines.contains("│   └── Pages written: 164"))
    #expect(lines.contains("│       ├── [4]  ./piggie --tcp-socket --zombie"))
    #expect(fromDirectory.stdout.contains("[INETSK 3]  TCP (LISTEN)  0.0.0.0:5000 -> 0.0.0.0:0"))
    for archive in [plain, packed] {
      let result = try CLI.run(["inspect", "--all", archive])
      #expect(result.status == 0, "\(result.stderr)")
      let archiveLines = result.stdout.split(separator: "\n").map(String.init)
      #expect(Array(archiveLines.dropFirst()) == Array(lines.filter { !$0.isEmpty }.dropFirst()))
    }
    let json = try CLI.run(["inspect", "--all", "--format", "json", packed])
    let object = try #require(try JSONValue(parsing: Array(json.stdout.utf8)).arrayValue?.first?.objectValue)
    #expect(object["engine"] == .string("CRIU"))
    #expect(object["statistics"]?.objectValue?["pages_written"] == .integer(164))
    let show = try CLI.run(["show", plain])
    #expect(show.status == 1)
    #expect(show.stderr == "Error: \(plain): config.dump: no such file or directory\n")
  }

  @Test func badInputIsReportedAndOthersStillShown() throws {
    let result = try CLI.run(["inspect", "missing.tar", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr == "Error: stat missing.tar: no such file or directory\n")
    #expect(result.stdout == (try referenceOutput("busybox-sleep.tar.inspect.txt")))
  }

  @Test func noInputIsAnError() throws {
    let result = try CLI.run(["inspect"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: "))
  }
}

@Suite struct InspectDetailsTests {
  @Test func allFlagsGolden() throws {
    let result = try CLI.run(["inspect", "--all", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try Fixtures.golden("inspect/busybox-ptree-all.txt", actual: result.stdout)))
    // Upstream's sections in upstream's order, then ours.
    let sections = [
      "├── CRIU dump statistics\n", "├── Metadata\n", "├── Process tree\n", "├── Overview of mounts\n",
      "├── Root FS diff\n", "├── /dev/shm (", "├── Volumes\n", "├── CRIU\n", "└── Container log (",
    ]
    let positions = sections.compactMap { result.stdout.range(of: "\n" + $0)?.lowerBound }
    #expect(positions.count == 9 && positions == positions.sorted())
  }

  @Test func openFilesOfBusyboxPtree() throws {
    let result = try CLI.run(["inspect", "--files", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let expected = """
              ├── Open files
              │   ├── [REG 0]  /dev/null
              │   ├── [PIPE 1]  pipe[81384]
              │   ├── [PIPE 2]  pipe[81385]
              │   ├── [REG 3]  /tmp/log.txt
              │   ├── [REG 4]  /etc/motd
              │   ├── [REG 5]  /data/volume-log.txt
              │   ├── [FIFO 7]  fifo[1206323] /tmp/fifo
              │   ├── [REG 10]  /ptree.sh
              │   ├── [cwd]  /
              │   └── [root]  /

      """
    #expect(result.stdout.contains(expected), "\(result.stdout)")
    // Only pid 12 has /etc/passwd open.
    #expect(result.stdout.components(separatedBy: "[REG 6]  /etc/passwd\n").count == 2)
    #expect(result.stdout == (try Fixtures.golden("inspect/busybox-ptree-files.txt", actual: result.stdout)))
  }

  @Test func ttysAreShownByPath() throws {
    let result = try CLI.run(["inspect", "--files", "busybox-tty.tar"], in: Fixtures.root)
    #expect(result.stdout.contains("[TTY 0]  /dev/pts/0\n"))
    #expect(result.stdout.contains("[TTY 10]  /dev/tty\n"))
  }

  @Test func socketsOfDebianNet() throws {
    let result = try CLI.run(["inspect", "--sockets", "debian-net.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try Fixtures.golden("inspect/debian-net-sockets.txt", actual: result.stdout)))
    for line in [
      "[TCP (LISTEN)]  0.0.0.0:8080 -> 0.0.0.0:0 (↑ 16.0 KiB ↓ 128.0 KiB)",
      "[TCP (LISTEN)]  [::]:8443 -> [::]:0 (↑ 16.0 KiB ↓ 128.0 KiB)",
      "[TCP (ESTABLISHED)]  127.0.0.1:42536 -> 127.0.0.1:8080 (↑ 3.8 MiB ↓ 128.0 KiB)",
      "[UDP (CLOSE)]  [::]:5354 -> [::]:0 (↑ 208.0 KiB ↓ 208.0 KiB)",
      "[UDP (ESTABLISHED)]  127.0.0.1:58771 -> 127.0.0.1:5353 (↑ 208.0 KiB ↓ 208.0 KiB)",
      "[UNIX STREAM (LISTEN)]  /tmp/fx.sock", "[UNIX STREAM (ESTABLISHED)]  (unnamed) -> peer 84382",
      "[UNIX DGRAM (CLOSE)]  @fx-abstract-dgram",
      "[TCP (ESTABLISHED)]  10.88.0.8:46534 -> 10.88.0.1:7000 (↑ 67.5 KiB ↓ 128.0 KiB)",
      "[TCP (LISTEN)]  127.0.0.1:9000 -> 0.0.0.0:0 (↑ 16.0 KiB ↓ 128.0 KiB)",
    ] {
      #expect(result.stdout.contains(line + "\n"), "\(line)")
    }
    #expect(!result.stdout.utf8.contains(0))
  }

  @Test func pidWithSocketsAndCommandLines() throws {
    let result = try CLI.run(
      ["inspect", "--sockets", "--ps-tree-cmd", "--pid", "6", "debian-net.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("└── Process tree\n    └── [6]  python3 -u /netapp.py 10.88.0.1:7000\n"))
    #expect(result.stdout.contains("[TCP (LISTEN)]  127.0.0.1:9000 -> 0.0.0.0:0"))
  }

  @Test(arguments: containerFixtures)
  func jsonMatchesUpstream(_ fixture: String) throws {
    let result = try CLI.run(["inspect", "--format=json", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try referenceOutput("\(fixture).inspect-json.txt")))
  }

  @Test func jsonWithAllFlags() throws {
    let result = try CLI.run(["inspect", "--format", "json", "--all", "debian-net.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try Fixtures.golden("inspect/debian-net-all.json", actual: result.stdout)))
    let array = try #require(try JSONValue(parsing: result.stdoutBytes).arrayValue)
    let object = try #require(array.first?.objectValue)
    #expect(object["container_name"] == .string("fx-net"))
    #expect(object["statistics"]?.objectValue?["pages_written"] != nil)
    let tree = try #require(object["process_tree"]?.objectValue)
    #expect(tree["pid"]?.integerValue == 1)
    #expect(tree["cmdline"] == .string("python3 -u /netapp.py 10.88.0.1:7000"))
    #expect(tree["children"]?.arrayValue?.first?.objectValue?["pid"]?.integerValue == 6)
    let sockets = try #require(object["sockets"]?.arrayValue?.first?.objectValue?["open_sockets"]?.arrayValue)
    #expect(sockets.count == 12)
    let listen = sockets[1].objectValue?["data"]?.objectValue
    #expect(listen?["src"] == .string("::"))
    #expect(listen?["src_port"]?.integerValue == 8443)
    #expect(listen?["state"] == .string("LISTEN"))
    #expect(object["mounts"]?.arrayValue?.isEmpty == false)
  }

  @Test func jsonOfSeveralInputsWithABadOne() throws {
    let result = try CLI.run(
      ["inspect", "--format", "json", "busybox-sleep.tar", "missing.tar", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr == "Error: stat missing.tar: no such file or directory\n")
    let array = try #require(try JSONValue(parsing: result.stdoutBytes).arrayValue)
    #expect(array.map { $0.objectValue?["container_name"] } == [.string("fx-sleep"), .string("fx-ptree")])
  }

  /// busybox-ptree rewritten: pid 9 a zombie, /tmp/log.txt unlinked (a CRIU ghost file).
  static func editedPtree(in directory: TemporaryDirectory) throws -> String {
    var logID: UInt32 = 0
    var members: [TestArchive.Member] = []
    for (entry, bytes) in try TestArchive.read(Fixtures.path("busybox-ptree.tar")) where entry.kind == .regular {
      var bytes = bytes
      if entry.path == "checkpoint/files.img" {
        let files = try ImageFile(decoding: bytes).messages(FileEntry.self)
        logID = try #require(files.first { $0.hasReg && $0.reg.name == "/tmp/log.txt" }).id
      }
      if entry.path == "checkpoint/core-9.img" {
        var image = try ImageFile(decoding: bytes)
        var core = try #require(image.messages(CoreEntry.self).first)
        core.tc.taskState = 2
        image.entries = [ImageEntry(message: core)]
        bytes = try image.encoded()
      }
      members.append(.file(entry.path, bytes))
    }
    var remap = RemapFilePathEntry()
    remap.origID = logID
    remap.remapID = 999
    remap.remapType = .ghost
    let kind = try #require(ImageKind.named("REMAP_FPATH"))
    members.append(
      .file("checkpoint/remap-fpath.img", try ImageFile(kind: kind, entries: [ImageEntry(message: remap)]).encoded()))
    let path = directory.file("edited.tar")
    try TestArchive.write(members, to: path)
    return path
  }

  @Test func zombiesAndDeletedFiles() throws {
    let directory = try TemporaryDirectory()
    let path = try Self.editedPtree(in: directory)
    let result = try CLI.run(["inspect", "--all", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("├── [9 (Zombie)]  sleep\n"), "\(result.stdout)")
    #expect(!result.stdout.contains("Dead"))
    #expect(result.stdout.contains("[REG 3]  /tmp/log.txt (deleted)\n"))
    #expect(!result.stdout.contains("sleep 1000"))
    let json = try CLI.run(["inspect", "--format", "json", "--files", path])
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    let zombie = object["process_tree"]?.objectValue?["children"]?.arrayValue?.first?.objectValue
    #expect(zombie?["task_state"] == .string("Zombie"))
    let pids = object["file_descriptors"]?.arrayValue?.compactMap { $0.objectValue?["pid"]?.integerValue }
    #expect(pids == [1, 10, 11, 19, 12, 20])
  }
}

@Suite struct InspectInputsTests {
  @Test func severalInputsMatchUpstream() throws {
    let result = try CLI.run(["inspect", "--ps-tree", "busybox-sleep.tar", "busybox-diff-1.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try referenceOutput("multi.inspect-ps-tree.txt")))
  }

  @Test func unpackedDirectoryInspectsLikeItsArchive() throws {
    let directory = try TemporaryDirectory()
    mkdir(directory.file("fx-ptree"), 0o700)
    try SafeExtraction.extract(
      try ArchiveReader(path: Fixtures.path("busybox-ptree.tar")), into: directory.file("fx-ptree"))
    let fromDirectory = try CLI.run(["inspect", "--all", "fx-ptree"], in: directory.path)
    #expect(fromDirectory.status == 0, "\(fromDirectory.stderr)")
    let fromArchive = try CLI.run(["inspect", "--all", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(
      fromDirectory.stdout
        == fromArchive.stdout.replacingOccurrences(of: "from busybox-ptree.tar\n", with: "from fx-ptree\n"))
  }

  @Test func compressedArchivesInspectLikeTheUncompressedOne() throws {
    let plain = try CLI.run(["inspect", "--all", "busybox-ptree.tar"], in: Fixtures.root)
    let directory = try TemporaryDirectory()
    let members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-ptree.tar")).compactMap {
      entry, bytes in entry.kind == .regular ? .file(entry.path, bytes) : nil
    }
    try TestArchive.write(members, to: directory.file("ptree.tar.zst"), compression: .zstd)
    let compressed = try CLI.run(["inspect", "--all", "ptree.tar.zst"], in: directory.path)
    #expect(compressed.status == 0, "\(compressed.stderr)")
    #expect(
      compressed.stdout
        == plain.stdout.replacingOccurrences(of: "from busybox-ptree.tar\n", with: "from ptree.tar.zst\n"))
  }

  @Test func crioAndContainerdCheckpoints() throws {
    let directory = try TemporaryDirectory()
    let volumes = """
      "io.kubernetes.cri-o.Volumes": "[{\\"container_path\\":\\"/data\\",\
      \\"host_path\\":\\"/var/lib/kubelet/pods/p/volumes/data\\",\\"readonly\\":true,\\"propagation\\":0,\
      \\"selinux_relabel\\":false,\\"recursive_read_only\\":false}]",
      """
    try EngineCheckpoints.write(
      to: directory.file("crio.tar"), config: EngineCheckpoints.crioConfig,
      spec: EngineCheckpoints.crioSpec.replacingOccurrences(
        of: "{\"annotations\": {", with: "{\"annotations\": {" + volumes))
    try EngineCheckpoints.write(
      to: directory.file("containerd.tar.gz"), config: EngineCheckpoints.containerdConfig,
      spec: EngineCheckpoints.containerdSpec, compression: .gzip)
    let result = try CLI.run(["inspect", "--metadata", "crio.tar", "containerd.tar.gz"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try Fixtures.golden("inspect/engines-metadata.txt", actual: result.stdout)))
    #expect(result.stdout.contains("\ncounter\n├── Image: quay.io/adrianreber/counter:latest\n"))
    #expect(result.stdout.contains("├── Checkpointed: 2024-01-28T00:10:45+05:30\n├── Engine: CRI-O\n"))
    #expect(result.stdout.contains("    ├── Pod name: counters\n    ├── Kubernetes namespace: default\n"))
    // The JSON-valued metadata annotation is expanded.
    #expect(result.stdout.contains("        ├── io.kubernetes.cri-o.Metadata\n        │   └── name: counter\n"))
    #expect(result.stdout.contains("\nweb\n"))
    #expect(
      result.stdout.contains(
        """
                ├── io.kubernetes.cri-o.Volumes
                │   └── /data
                │       ├── host path: /var/lib/kubelet/pods/p/volumes/data
                │       ├── read-only: true
                │       ├── selinux relabel: false
                │       ├── recursive read-only: false
                │       └── propagation: 0

        """))
    #expect(result.stdout.contains("├── Engine: containerd\n"))
    #expect(result.stdout.contains("    ├── Pod name: web-0\n    ├── Kubernetes namespace: prod\n"))
  }

  @Test func truncatedImageIsAClearError() throws {
    let directory = try TemporaryDirectory()
    let members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).compactMap {
      entry, bytes in
      guard entry.kind == .regular else { return nil }
      return .file(entry.path, entry.path == "checkpoint/pstree.img" ? Array(bytes.prefix(bytes.count - 3)) : bytes)
    }
    try TestArchive.write(members, to: directory.file("broken.tar"))
    let base = try CLI.run(["inspect", "broken.tar"], in: directory.path)
    #expect(base.status == 0, "the base view reads no CRIU image")
    let result = try CLI.run(["inspect", "--ps-tree", "broken.tar"], in: directory.path)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr.hasPrefix("Error: "))
    #expect(result.stderr.contains("checkpoint/pstree.img"), "\(result.stderr)")
  }

  /// A tree with upstream's random or intentionally different parts made comparable: trailing spaces dropped,
  /// environment and annotation entries sorted, open files reduced to `[TYPE FD]`, sockets to a count.
  static func comparable(_ text: String) -> [String] {
    let lines = withoutTrailingSpaces(text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func depth(_ line: String) -> Int? {
      guard let range = line.range(of: "── ") else { return nil }
      return line.distance(from: line.startIndex, to: range.upperBound)
    }
    var result: [String] = []
    var index = 0
    while index < lines.count {
      let line = lines[index]
      result.append(line)
      index += 1
      guard let level = depth(line),
        let kind = ["Environment variables", "Annotations", "Open files", "Open sockets"].first(where: {
          line.hasSuffix("── " + $0)
        })
      else { continue }
      var group: [String] = []
      while index < lines.count, let child = depth(lines[index]), child > level {
        let prefix = String(lines[index].prefix(child - 4))
        var content = String(lines[index].dropFirst(child))
        if kind == "Open files" { content = String(content.prefix { $0 != "]" }) }
        if kind == "Open sockets" { content = "socket" }
        group.append(prefix + "*── " + content)
        index += 1
      }
      result += kind.hasPrefix("Open") ? group : group.sorted()
    }
    return result
  }

  /// Upstream's `--all`: the flags it turns on (ours also turns on the sections upstream lacks).
  static let upstreamAll = [
    "--stats", "--mounts", "--metadata", "--ps-tree-cmd", "--ps-tree-env", "--files", "--sockets",
  ]

  /// The sections upstream does not have (`Threads`, `Memory maps`, `Root FS diff`, `/dev/shm`, `Volumes`, `CRIU`,
  /// `Container log`) removed with all their lines, and the branch characters erased (removing a last node
  /// changes its siblings' branches).
  static func withoutExtensions(_ text: String) -> [String] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func depth(_ line: String) -> Int? {
      guard let range = line.range(of: "── ") else { return nil }
      return line.distance(from: line.startIndex, to: range.upperBound)
    }
    var result: [String] = []
    var index = 0
    while index < lines.count {
      let line = lines[index]
      index += 1
      if let level = depth(line),
        ["Threads", "Memory maps", "Root FS diff", "CRIU"].contains(where: { line.hasSuffix("── " + $0) })
          || ["/dev/shm", "Volumes", "Container log"].contains(where: { line.contains("── " + $0) })
      {
        while index < lines.count, let child = depth(lines[index]), child > level { index += 1 }
        continue
      }
      result.append(line)
    }
    return result.map {
      $0.replacingOccurrences(of: "│", with: " ").replacingOccurrences(of: "├", with: "*")
        .replacingOccurrences(of: "└", with: "*")
    }
  }

  @Test(arguments: containerFixtures)
  func allFlagsMatchUpstreamWhereComparable(_ fixture: String) throws {
    let result = try CLI.run(["inspect"] + Self.upstreamAll + [fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let ours = Self.comparable(result.stdout)
    let upstream = Self.comparable(try referenceOutput("\(fixture).inspect-all.txt"))
    #expect(ours.count == upstream.count && ours.count > 30)
    for (line, (mine, theirs)) in zip(ours, upstream).enumerated() where mine != theirs {
      Issue.record("line \(line + 1): \(mine) != \(theirs)")
      break
    }
    // `--all` shows the same and only adds the sections upstream lacks.
    let all = try CLI.run(["inspect", "--all", fixture], in: Fixtures.root)
    #expect(all.status == 0, "\(all.stderr)")
    #expect(Self.withoutExtensions(all.stdout) == Self.withoutExtensions(result.stdout))
    #expect(all.stdout.contains("── CRIU\n"))
  }

  /// Upstream's JSON with its random and intentionally different parts made comparable: `children` and
  /// per-process lists sorted by pid, command lines without the trailing space, open files reduced to type and
  /// fd, sockets dropped (their rendering differs on purpose), and the keys upstream does not have
  /// (`threads`, `memory_maps`, `rootfs_diff`, `criu`, `dump_log`, `devshm`, `volumes`, `container_log`) dropped.
  static func comparable(_ value: JSONValue) -> JSONValue {
    func pid(_ value: JSONValue) -> Int64 { value.objectValue?["pid"]?.integerValue ?? -1 }
    func process(_ value: JSONValue) -> JSONValue {
      guard var object = value.objectValue else { return value }
      object["threads"] = nil
      object["memory_maps"] = nil
      if let cmdline = object["cmdline"]?.stringValue {
        object["cmdline"] = .string(String(cmdline.reversed().drop { $0 == " " }.reversed()))
      }
      if let children = object["children"]?.arrayValue {
        object["children"] = .array(children.map(process).sorted { pid($0) < pid($1) })
      }
      return .object(object)
    }
    return .array(
      (value.arrayValue ?? []).map { checkpoint in
        guard var object = checkpoint.objectValue else { return checkpoint }
        object["sockets"] = nil
        for key in ["rootfs_diff", "criu", "dump_log", "devshm", "volumes", "container_log"] { object[key] = nil }
        if let tree = object["process_tree"] { object["process_tree"] = process(tree) }
        if let files = object["file_descriptors"]?.arrayValue {
          object["file_descriptors"] = .array(
            files.map { entry in
              var entry = entry.objectValue ?? [:]
              entry["open_files"] = .array(
                (entry["open_files"]?.arrayValue ?? []).map { file in
                  .object((file.objectValue ?? [:]).filter { $0.key != "path" })
                })
              return .object(entry)
            }.sorted { pid($0) < pid($1) })
        }
        return .object(object)
      })
  }

  @Test(arguments: containerFixtures)
  func allFlagsJSONMatchesUpstreamWhereComparable(_ fixture: String) throws {
    let result = try CLI.run(["inspect", "--format=json", "--all", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let ours = Self.comparable(try JSONValue(parsing: result.stdoutBytes))
    let upstream = Self.comparable(
      try JSONValue(parsing: Array(try referenceOutput("\(fixture).inspect-json-all.canonical.json").utf8)))
    #expect(ours == upstream)
    #expect(ours.arrayValue?.first?.objectValue?["process_tree"] != nil)
  }
}

/// The flags beyond upstream: `--threads`, `--mems`, `--rootfs-diff`, `--dump-log`.
@Suite struct InspectExtensionsTests {
  /// busybox-ptree rewritten: pid 1 has a second thread 30 named `worker` (its own core image), pid 9 is a
  /// zombie whose pstree entry lists a garbage thread id, as CRIU writes them.
  static func threadedPtree(in directory: TemporaryDirectory) throws -> String {
    var members: [TestArchive.Member] = []
    var mainCore: [UInt8] = []
    for (entry, bytes) in try TestArchive.read(Fixtures.path("busybox-ptree.tar")) where entry.kind == .regular {
      var bytes = bytes
      if entry.path == "checkpoint/core-1.img" { mainCore = bytes }
      if entry.path == "checkpoint/pstree.img" {
        var image = try ImageFile(decoding: bytes)
        image.entries = image.messages(PstreeEntry.self).map { process in
          var process = process
          if process.pid == 1 { process.threads = [1, 30] }
          if process.pid == 9 { process.threads = [696_934_896] }
          return ImageEntry(message: process)
        }
        bytes = try image.encoded()
      }
      if entry.path == "checkpoint/core-9.img" {
        var image = try ImageFile(decoding: bytes)
        var core = try #require(image.messages(CoreEntry.self).first)
        core.tc.taskState = 2
        image.entries = [ImageEntry(message: core)]
        bytes = try image.encoded()
      }
      members.append(.file(entry.path, bytes))
    }
    var image = try ImageFile(decoding: mainCore)
    var thread = try #require(image.messages(CoreEntry.self).first)
    thread.clearTc()
    thread.threadCore.comm = "worker"
    image.entries = [ImageEntry(message: thread)]
    members.append(.file("checkpoint/core-30.img", try image.encoded()))
    let path = directory.file("threaded.tar")
    try TestArchive.write(members, to: path)
    return path
  }

  @Test func threadsOfBusyboxPtree() throws {
    let result = try CLI.run(["inspect", "--threads", "--pid", "11", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.hasSuffix(
        """
        └── Process tree
            └── [11]  sh
                ├── Threads
                │   └── [11]  sh
                └── [19]  sleep
                    └── Threads
                        └── [19]  sleep


        """))
  }

  @Test func threadNamesComeFromThreadCoresAndZombiesHaveNone() throws {
    let directory = try TemporaryDirectory()
    let path = try Self.threadedPtree(in: directory)
    let result = try CLI.run(["inspect", "--threads", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.contains(
        "    └── [1]  sh\n        ├── Threads\n        │   ├── [1]  sh\n        │   └── [30]  worker\n"))
    #expect(result.stdout.contains("├── [9 (Zombie)]  sleep\n"))
    #expect(!result.stdout.contains("696934896"))
    let json = try CLI.run(["inspect", "--format", "json", "--threads", path])
    #expect(json.status == 0, "\(json.stderr)")
    let tree = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue?["process_tree"])
    #expect(
      tree.objectValue?["threads"]
        == .array([
          .object(["tid": .integer(1), "name": .string("sh")]),
          .object(["tid": .integer(30), "name": .string("worker")]),
        ]))
    let zombie = try #require(tree.objectValue?["children"]?.arrayValue?.first?.objectValue)
    #expect(zombie["pid"]?.integerValue == 9 && zombie["threads"] == nil)
    #expect(!json.stdout.contains("696934896"))
  }

  @Test func memoryMapsOfBusyboxPtree() throws {
    let result = try CLI.run(["inspect", "--mems", "--pid", "9", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    for line in [
      "            ├── 00401000-00585000 r-xp 00001000 /bin/busybox  (rss 4.0 KiB)",
      "            ├── 005e2000-005e5000 rw-p 001e1000 /bin/busybox  (rss 12.0 KiB)",
      "            ├── 0e0e2000-0e104000 rw-p 00000000 [heap]  (rss 8.0 KiB)",
      "            ├── 7ffe62d7a000-7ffe62d9b000 rw-p 00000000 [stack]  (rss 8.0 KiB)",
      "            └── ffffffffff600000-ffffffffff601000 --xp 00000000 [vsyscall]  (rss 0 B)",
    ] {
      #expect(result.stdout.contains("\n" + line + "\n"), "\(line)")
    }
    #expect(result.stdout.contains("    └── [9]  sleep\n        └── Memory maps\n"))
  }

  /// Every process's resident sizes add up to its dumped pages (MANIFEST: 18, 15, 17, 18, 16, 16, 16 pages).
  @Test func residentSizesAddUpToTheDumpedPages() throws {
    let result = try CLI.run(["inspect", "--format", "json", "--mems", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let root = try #require(try JSONValue(parsing: result.stdoutBytes).arrayValue?.first?.objectValue?["process_tree"])
    func processes(_ value: JSONValue) -> [[String: JSONValue]] {
      guard let object = value.objectValue else { return [] }
      return [object] + (object["children"]?.arrayValue ?? []).flatMap(processes)
    }
    var pages: [Int64: Int64] = [:]
    for process in processes(root) {
      let pid = try #require(process["pid"]?.integerValue)
      let maps = try #require(process["memory_maps"]?.arrayValue)
      var previousEnd: UInt64 = 0
      for map in maps {
        let object = try #require(map.objectValue)
        #expect(Set(object.keys) == ["start", "end", "permissions", "offset", "name", "resident"])
        let start = try #require(object["start"]?.stringValue)
        let end = try #require(object["end"]?.stringValue)
        #expect(start.hasPrefix("0x") && end.hasPrefix("0x") && object["offset"]?.stringValue?.hasPrefix("0x") == true)
        let low = try #require(UInt64(start.dropFirst(2), radix: 16))
        #expect(low >= previousEnd)
        previousEnd = try #require(UInt64(end.dropFirst(2), radix: 16))
        #expect(object["permissions"]?.stringValue?.count == 4)
      }
      let resident = maps.compactMap { $0.objectValue?["resident"]?.integerValue }.reduce(0, +)
      pages[pid] = resident / 4096
    }
    #expect(pages == [1: 18, 9: 15, 10: 17, 11: 18, 19: 16, 12: 16, 20: 16])
  }

  static let ptreeRootFSDiff = """
    ├── Root FS diff
    │   ├── /data  (0 B, drwxr-xr-x)
    │   ├── /ptree.sh  (0 B, -rwxr-xr-x)
    │   ├── /root/newfile.txt  (14 B, -rw-r--r--)
    │   ├── /scratch  (0 B, drwxr-xr-x)
    │   ├── /tmp/fifo  (0 B, prw-r--r--)
    │   ├── /tmp/log.txt  (9 B, -rw-r--r--)
    │   ├── /var/lib  (0 B, drwxr-xr-x)
    │   ├── /var/lib/fxapp  (0 B, drwxr-xr-x)
    │   ├── /var/lib/fxapp/state.json  (12 B, -rw-r--r--)
    │   └── Deleted files
    │       └── /etc/delete-me.txt

    """

  /// MANIFEST (busybox-ptree): rootfs-diff.tar's members and deleted.files `["/etc/delete-me.txt"]`.
  @Test(arguments: ["busybox-ptree.tar", "ptree.tar.zst", "ptree-directory"])
  func rootFSDiffOfBusyboxPtree(_ name: String) throws {
    let directory = try TemporaryDirectory()
    let members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-ptree.tar")).compactMap {
      entry, bytes in entry.kind == .regular ? .file(entry.path, bytes) : nil
    }
    try TestArchive.write(members, to: directory.file("ptree.tar.zst"), compression: .zstd)
    mkdir(directory.file("ptree-directory"), 0o700)
    try SafeExtraction.extract(
      try ArchiveReader(path: Fixtures.path("busybox-ptree.tar")), into: directory.file("ptree-directory"))
    let path = name == "busybox-ptree.tar" ? Fixtures.path(name) : directory.file(name)
    let result = try CLI.run(["inspect", "--rootfs-diff", "--dump-log", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("├── Root FS diff size: 7.0 KiB\n" + Self.ptreeRootFSDiff + "└── CRIU\n"))
    let json = try CLI.run(["inspect", "--format", "json", "--rootfs-diff", path])
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    let diff = try #require(object["rootfs_diff"]?.objectValue)
    #expect(diff["deleted"] == .array([.string("/etc/delete-me.txt")]))
    let files = try #require(diff["files"]?.arrayValue)
    #expect(files.count == 9)
    #expect(
      files.contains(
        .object(["path": .string("/root/newfile.txt"), "size": .integer(14), "mode": .string("-rw-r--r--")])))
    #expect(object["process_tree"] == nil && object["criu"] == nil)
  }

  struct DamageCase: CustomTestStringConvertible, Sendable {
    var member: String
    var bytes: [UInt8]
    var message: String
    var testDescription: String { "\(member): \(message)" }
  }

  static let damages = [
    DamageCase(member: "rootfs-diff.tar", bytes: Array(repeating: 0x41, count: 1000), message: "rootfs-diff.tar"),
    DamageCase(member: "deleted.files", bytes: Array("{\"a\": 1}".utf8), message: "deleted.files"),
  ]

  @Test(arguments: damages)
  func damagedRootFSDiffIsAClearError(_ damage: DamageCase) throws {
    let directory = try TemporaryDirectory()
    let members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-ptree.tar")).compactMap {
      entry, bytes in
      guard entry.kind == .regular else { return nil }
      return .file(entry.path, entry.path == damage.member ? damage.bytes : bytes)
    }
    try TestArchive.write(members, to: directory.file("damaged.tar"))
    let base = try CLI.run(["inspect", "--ps-tree", "damaged.tar"], in: directory.path)
    #expect(base.status == 0, "only --rootfs-diff reads the member")
    let result = try CLI.run(["inspect", "--rootfs-diff", "damaged.tar"], in: directory.path)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(damage.message), "\(result.stderr)")
    #expect(!result.stderr.contains("/proc/") && result.stderr.split(separator: "\n").count == 1)
  }

  @Test func rootFSDiffWithoutMembers() throws {
    let result = try CLI.run(["inspect", "--rootfs-diff", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasSuffix("└── Root FS diff\n\n"))
    let json = try CLI.run(["inspect", "--format", "json", "--rootfs-diff", "busybox-sleep.tar"], in: Fixtures.root)
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    #expect(object["rootfs_diff"] == .object(["files": .array([]), "deleted": .array([])]))
  }

  /// busybox-sleep with a 25-line `dump.log` added at the archive root.
  static func sleepWithDumpLog(in directory: TemporaryDirectory, compression: ArchiveFilter = .none) throws -> String {
    var members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).compactMap {
      entry, bytes in entry.kind == .regular ? .file(entry.path, bytes) : nil
    }
    let log = (1...25).map { "(00.\(String(format: "%06d", $0))) dump line \($0)\n" }.joined()
    members.append(.file("dump.log", Array(log.utf8)))
    let path = directory.file(compression == .none ? "logged.tar" : "logged.tar.gz")
    try TestArchive.write(members, to: path, compression: compression)
    return path
  }

  /// A terminal escape written into a hostile checkpoint's `dump.log` reaches the terminal escaped; tabs stay.
  @Test func dumpLogLinesCannotDriveTheTerminal() throws {
    let directory = try TemporaryDirectory()
    var members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).compactMap {
      entry, bytes in entry.kind == .regular ? .file(entry.path, bytes) : nil
    }
    members.append(.file("dump.log", Array("(00.000001) a\ttab\n(00.000002) \u{1b}[2Jcleared\r\n".utf8)))
    let path = directory.file("escape.tar")
    try TestArchive.write(members, to: path)
    let result = try CLI.run(["inspect", "--dump-log", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("── (00.000001) a\ttab\n"))
    // The final carriage return of a CRLF line is dropped, as in every log line shown.
    #expect(result.stdout.contains("── (00.000002) \\x1b[2Jcleared\n") && !result.stdout.contains("\u{1b}"))
  }

  @Test(arguments: [ArchiveFilter.none, .gzip])
  func dumpLogShowsTheLastTwentyLines(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    let path = try Self.sleepWithDumpLog(in: directory, compression: compression)
    let result = try CLI.run(["inspect", "--dump-log", path])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = (6...25).map {
      "        \($0 == 25 ? "└" : "├")── (00.\(String(format: "%06d", $0))) dump line \($0)\n"
    }
    #expect(
      result.stdout.contains(
        "└── CRIU\n    ├── Image version: 2\n    ├── Plugins: none\n    ├── LSM: NO_LSM\n    ├── Dump run ID: "))
    #expect(
      result.stdout.hasSuffix("    └── Dump log (last 20 lines)\n" + lines.joined() + "\n"), "\(result.stdout)")
    #expect(!result.stdout.contains("dump line 5\n"))
    let json = try CLI.run(["inspect", "--format", "json", "--dump-log", path])
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    let log = try #require(object["dump_log"]?.arrayValue)
    #expect(
      log.count == 20 && log.first == .string("(00.000006) dump line 6")
        && log.last == .string("(00.000025) dump line 25"))
    let criu = try #require(object["criu"]?.objectValue)
    #expect(criu["image_version"]?.integerValue == 2)
    #expect(criu["plugins"] == .array([]))
    #expect(criu["lsm_type"] == .string("NO_LSM"))
    #expect(criu["dump_criu_run_id"]?.stringValue?.count == 36)
  }

  @Test func podmanArchivesHaveNoDumpLog() throws {
    let result = try CLI.run(["inspect", "--format", "json", "--dump-log", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONValue(parsing: result.stdoutBytes).arrayValue?.first?.objectValue)
    #expect(object["dump_log"] == .null)
    #expect(
      object["criu"]
        == .object([
          "image_version": .integer(2), "plugins": .array([]), "lsm_type": .string("NO_LSM"),
          "dump_criu_run_id": .string("882f1aad-6143-421d-9c67-10ed70cdaf26"),
        ]))
    let tree = try CLI.run(["inspect", "--dump-log", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(tree.stdout.hasSuffix("└── CRIU\n" + Self.ptreeCRIU.replacingOccurrences(of: "│", with: " ") + "\n"))
  }

  /// busybox-ptree's CRIU section, below its `CRIU` line and not the last section.
  static let ptreeCRIU = """
    │   ├── Image version: 2
    │   ├── Plugins: none
    │   ├── LSM: NO_LSM
    │   └── Dump run ID: 882f1aad-6143-421d-9c67-10ed70cdaf26

    """

  @Test func allIncludesTheExtensions() throws {
    let result = try CLI.run(["inspect", "--all", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains(Self.ptreeRootFSDiff + "├── /dev/shm (devshm-checkpoint.tar, 1.5 KiB, 0 entries)\n"))
    #expect(result.stdout.hasSuffix("├── CRIU\n" + Self.ptreeCRIU + "└── Container log (ctr.log, 0 B)\n\n"))
    #expect(result.stdout.components(separatedBy: "── Threads\n").count == 8)
    #expect(result.stdout.components(separatedBy: "── Memory maps\n").count == 8)
    let json = try CLI.run(["inspect", "--format", "json", "--all", "busybox-ptree.tar"], in: Fixtures.root)
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    #expect(object["rootfs_diff"] != nil && object["criu"] != nil && object["dump_log"] == .null)
    #expect(object["devshm"] != nil && object["volumes"]?.arrayValue?.count == 1 && object["container_log"] != nil)
    let tree = try #require(object["process_tree"]?.objectValue)
    #expect(tree["threads"] != nil && tree["memory_maps"] != nil)
  }
}

/// PACKET and NETLINK sockets (no fixture has one): busybox-sleep with three more descriptors, written with
/// `decode` and `encode`. CRIU stores a packet socket's protocol in network byte order, as `socket()` takes it:
/// 768 is `htons(ETH_P_ALL)`, 52360 is `htons(0x88cc)` (LLDP) on this little-endian machine.
@Suite struct PacketAndNetlinkSocketTests {
  static let fileEntries = """
    {"type": "NETLINKSK", "id": 100, "nlsk": {"id": 100, "ino": 4242, "protocol": 0, "state": 0, "portid": 77,
     "groups": [1, 2], "opts": {"so_sndbuf": 212992, "so_rcvbuf": 212992}}},
    {"type": "PACKETSK", "id": 101, "psk": {"id": 101, "type": 3, "protocol": 768, "ifindex": 0,
     "opts": {"so_sndbuf": 4096, "so_rcvbuf": 8192}}},
    {"type": "PACKETSK", "id": 102, "psk": {"id": 102, "type": 2, "protocol": 52360, "ifindex": 2,
     "opts": {"so_sndbuf": 4096, "so_rcvbuf": 8192}}}
    """
  static let descriptors = """
    {"id": 100, "flags": 0, "type": "NETLINKSK", "fd": 7}, {"id": 101, "flags": 0, "type": "PACKETSK", "fd": 8},
    {"id": 102, "flags": 0, "type": "PACKETSK", "fd": 9}
    """

  /// Appends `entries` (JSON text) to the entries of `image` in the checkpoint at `directory`.
  static func append(_ entries: String, to image: String, in directory: String) throws {
    let path = directory + "/checkpoint/" + image
    let decoded = try CLI.run(["decode", path])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    let text = decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try Files.write(Array((String(text.dropLast(2)) + ", " + entries + "]}").utf8), to: path + ".json")
    let encoded = try CLI.run(["encode", "-i", path + ".json", "-o", path])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    unlink(path + ".json")
  }

  static func checkpoint(in directory: TemporaryDirectory) throws -> String {
    let path = directory.file("sockets")
    mkdir(path, 0o700)
    try SafeExtraction.extract(try ArchiveReader(path: Fixtures.path("busybox-sleep.tar")), into: path)
    try append(fileEntries, to: "files.img", in: path)
    try append(descriptors, to: "fdinfo-2.img", in: path)
    return path
  }

  @Test func treeShowsWhatEachSocketIs() throws {
    let directory = try TemporaryDirectory()
    _ = try Self.checkpoint(in: directory)
    let result = try CLI.run(["inspect", "--files", "--sockets", "sockets"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map { $0.drop { $0 == " " || $0 == "│" } }
    #expect(lines.contains("├── [NETLINKSK 7]  NETLINK ROUTE (UNCONNECTED)  port 77, groups 0x200000001"))
    #expect(lines.contains("├── [PACKETSK 8]  PACKET RAW  ALL on every interface"))
    #expect(lines.contains("├── [PACKETSK 9]  PACKET DGRAM  0x88cc on interface 2"))
    #expect(lines.contains("├── [NETLINK ROUTE (UNCONNECTED)]  port 77, groups 0x200000001"))
    #expect(lines.contains("├── [PACKET RAW]  ALL on every interface"))
    #expect(lines.contains("└── [PACKET DGRAM]  0x88cc on interface 2"))
  }

  @Test func jsonHasAStableSchema() throws {
    let directory = try TemporaryDirectory()
    _ = try Self.checkpoint(in: directory)
    let result = try CLI.run(["inspect", "--sockets", "--format", "json", "sockets"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    let document = try JSONValue(parsing: result.stdoutBytes)
    let sockets = try #require(document.arrayValue?.first?.objectValue?["sockets"]?.arrayValue?.first?.objectValue)
    let data = try #require(sockets["open_sockets"]?.arrayValue).compactMap { $0.objectValue?["data"] }
    #expect(
      data == [
        .object([
          "type": .string("NETLINK"), "family": .string("ROUTE"), "state": .string("UNCONNECTED"),
          "port_id": .integer(77), "groups": .array([.integer(1), .integer(2)]),
          "send_buf": .string("208.0 KiB"), "recv_buf": .string("208.0 KiB"),
        ]),
        .object([
          "type": .string("PACKET"), "socket_type": .string("RAW"), "ether_type": .string("ALL"),
          "ifindex": .integer(0), "send_buf": .string("4.0 KiB"), "recv_buf": .string("8.0 KiB"),
        ]),
        .object([
          "type": .string("PACKET"), "socket_type": .string("DGRAM"), "ether_type": .string("0x88cc"),
          "ifindex": .integer(2), "send_buf": .string("4.0 KiB"), "recv_buf": .string("8.0 KiB"),
        ]),
      ])
  }
}
