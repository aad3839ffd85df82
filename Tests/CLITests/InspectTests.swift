import CheckpointKit
import Foundation
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

  @Test func rawImageDirectoryIsNotAContainerCheckpoint() throws {
    let result = try CLI.run(["inspect", "--all", "raw/piggie"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr == "Error: raw/piggie is not a container checkpoint: it has no checkpoint directory\n")
  }

  @Test func badInputIsReportedAndOthersStillShown() throws {
    let result = try CLI.run(["inspect", "missing.tar", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: missing.tar"))
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
    // Upstream's sections in upstream's order.
    let sections = ["├── CRIU dump statistics", "├── Metadata", "├── Process tree", "└── Overview of mounts"]
    let positions = sections.compactMap { result.stdout.range(of: "\n" + $0 + "\n")?.lowerBound }
    #expect(positions.count == 4 && positions == positions.sorted())
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
    #expect(result.stderr.hasPrefix("Error: missing.tar"))
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

  @Test(arguments: containerFixtures)
  func allFlagsMatchUpstreamWhereComparable(_ fixture: String) throws {
    let result = try CLI.run(["inspect", "--all", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let ours = Self.comparable(result.stdout)
    let upstream = Self.comparable(try referenceOutput("\(fixture).inspect-all.txt"))
    #expect(ours.count == upstream.count && ours.count > 30)
    for (line, (mine, theirs)) in zip(ours, upstream).enumerated() where mine != theirs {
      Issue.record("line \(line + 1): \(mine) != \(theirs)")
      break
    }
  }

  /// Upstream's JSON with its random and intentionally different parts made comparable: `children` and
  /// per-process lists sorted by pid, command lines without the trailing space, open files reduced to type and
  /// fd, sockets dropped (their rendering differs on purpose).
  static func comparable(_ value: JSONValue) -> JSONValue {
    func pid(_ value: JSONValue) -> Int64 { value.objectValue?["pid"]?.integerValue ?? -1 }
    func process(_ value: JSONValue) -> JSONValue {
      guard var object = value.objectValue else { return value }
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
