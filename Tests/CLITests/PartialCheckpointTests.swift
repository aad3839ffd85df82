import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// A container checkpoint laid out in a directory the way upstream's users (and upstream's own tests) lay one out
/// before `tar cf`: `config.dump`, `spec.dump`, `mkdir checkpoint`, and some of a real checkpoint's images and
/// metadata files (taken from debian-net: two python3 processes with TCP sockets, pages, `stats-dump` and
/// `network.status`).
final class UpstreamStyleCheckpoint {
  enum Metadata: String, CaseIterable, CustomTestStringConvertible {
    case podman, crio, containerd
    var testDescription: String { rawValue }
    /// What `show` and `inspect` print as the engine.
    var engine: String { ["podman": "Podman", "crio": "CRI-O", "containerd": "containerd"][rawValue] ?? "" }
  }

  /// The container's metadata files and images, by name (`checkpoint/pstree.img`, `stats-dump`).
  static let source: [String: [UInt8]] = {
    var members: [String: [UInt8]] = [:]
    for (entry, bytes) in (try? TestArchive.read(Fixtures.path("debian-net.tar.gz"))) ?? [] where entry.kind == .regular
    {
      members[entry.normalizedPath ?? entry.path] = bytes
    }
    return members
  }()

  let directory: TemporaryDirectory
  /// Where the checkpoint's files are laid out.
  let root: String

  /// `config.dump` and `spec.dump` of the engine, and an empty `checkpoint/` (pass `imageDirectory: false` to
  /// leave it out).
  init(_ metadata: Metadata = .podman, imageDirectory: Bool = true) throws {
    directory = try TemporaryDirectory()
    root = directory.file("checkpoint-src")
    mkdir(root, 0o755)
    if imageDirectory { mkdir(root + "/checkpoint", 0o755) }
    switch metadata {
    case .podman:
      try add(["config.dump", "spec.dump"])
    case .crio:
      try write(EngineCheckpoints.crioConfig, to: "config.dump")
      try write(EngineCheckpoints.crioSpec, to: "spec.dump")
    case .containerd:
      try write(EngineCheckpoints.containerdConfig, to: "config.dump")
      try write(EngineCheckpoints.containerdSpec, to: "spec.dump")
    }
  }

  /// Copies members of the real checkpoint; a name ending in `*` copies every member starting with the rest.
  func add(_ names: [String]) throws {
    for name in names {
      let matches =
        name.hasSuffix("*")
        ? Self.source.keys.filter { $0.hasPrefix(String(name.dropLast())) } : [name]
      #expect(!matches.isEmpty, "no member \(name)")
      for match in matches {
        try Files.write(try #require(Self.source[match]), to: root + "/" + match)
      }
    }
  }

  /// Adds the images (under `checkpoint/`).
  func add(images: [String]) throws { try add(images.map { "checkpoint/" + $0 }) }

  func write(_ text: String, to name: String) throws {
    try Files.write(Array(text.utf8), to: root + "/" + name)
  }

  func remove(_ name: String) { unlink(root + "/" + name) }

  /// `tar cf` (or `czf`, `--zstd -cf`) of the directory, as `( cd dir && tar cf out . )`.
  @discardableResult
  func pack(_ name: String = "test.tar", compression: String = "none") throws -> String {
    let output = directory.file(name)
    let flags = ["none": ["-cf"], "gzip": ["-czf"], "zstd": ["--zstd", "-cf"]][compression] ?? ["-cf"]
    try Tool.run("tar", flags + [output, "."], in: root)
    return output
  }
}

/// Lines of output without the empty ones, as upstream's bats tests index them.
func nonEmptyLines(_ text: String) -> [String] {
  text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

/// Issue #9: partial checkpoints behave as upstream's do. Archives are built with `tar` from directories, as
/// upstream's users build them, in plain, gzip and zstd form, and unpacked directories are read too.
@Suite struct PartialCheckpointTests {
  static let compressions = ["none", "gzip", "zstd"]

  @Test(arguments: UpstreamStyleCheckpoint.Metadata.allCases, compressions)
  func metadataAloneIsACheckpoint(_ metadata: UpstreamStyleCheckpoint.Metadata, _ compression: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint(metadata)
    let archive = try checkpoint.pack(compression: compression)
    for input in [archive, checkpoint.root] {
      let show = try CLI.run(["show", input])
      #expect(show.status == 0, "\(show.stderr)")
      #expect(show.stderr == "")
      let showLines = nonEmptyLines(show.stdout)
      #expect(showLines[0] == "Displaying container checkpoint data from \(input)")
      #expect(showLines[3].contains(metadata.engine), "\(show.stdout)")
      #expect(showLines[3].hasSuffix("0 B"))

      let inspect = try CLI.run(["inspect", input])
      #expect(inspect.status == 0, "\(inspect.stderr)")
      let lines = nonEmptyLines(inspect.stdout)
      // Podman records no checkpoint time; CRI-O and containerd add a `Checkpointed:` line before the engine.
      let engineLine = metadata == .podman ? 6 : 7
      #expect(lines[engineLine].hasSuffix("Engine: \(metadata.engine)"), "\(inspect.stdout)")
      #expect(lines.last?.hasSuffix("Checkpoint size: 0 B") == true)

      let mounts = try CLI.run(["inspect", input, "--mounts", "--metadata"])
      #expect(mounts.status == 0, "\(mounts.stderr)")
      #expect(mounts.stdout.contains("├── Metadata"))
      if metadata == .podman {
        let mountLines = nonEmptyLines(mounts.stdout)
        let overview = try #require(mountLines.firstIndex { $0.contains("Overview of mounts") })
        #expect(mountLines[overview + 1].hasSuffix("── Destination: /netapp.py"))
        #expect(mountLines[overview + 2].hasSuffix("── Type: bind"))
      }

      let json = try CLI.run(["inspect", input, "--format", "json", "--mounts", "--metadata"])
      #expect(json.status == 0, "\(json.stderr)")
      let document = try JSONValue(parsing: json.stdoutBytes)
      let object = try #require(document.arrayValue?.first?.objectValue)
      #expect(object["engine"] == .string(metadata.engine))
      #expect(object["checkpoint_size"]?.objectValue?["total_size"] == .integer(0))
      #expect(object["process_tree"] == nil)
    }
  }

  @Test(arguments: compressions)
  func statsAndNetworkFromMetadataAlone(_ compression: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.add(["stats-dump", "network.status"])
    let archive = try checkpoint.pack(compression: compression)
    let stats = try CLI.run(["inspect", archive, "--stats"])
    #expect(stats.status == 0, "\(stats.stderr)")
    let lines = nonEmptyLines(stats.stdout)
    #expect(lines[7] == "├── Network Interfaces")
    #expect(lines[8] == "│   └── podman (eth0)")
    #expect(lines[9].hasSuffix("IP: 10.88.0.8/16"))
    #expect(lines[13] == "└── CRIU dump statistics")
    #expect(lines[17].hasSuffix("Memwrite time: 6.3 ms"))
    #expect(lines[18].hasSuffix("Pages scanned: 2314"))

    let json = try CLI.run(["inspect", archive, "--stats", "--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(try JSONValue(parsing: json.stdoutBytes).arrayValue?.first?.objectValue)
    #expect(object["ip"] == .string("10.88.0.8"))
    #expect(object["mac"] == .string("7a:6b:8c:e8:6a:f4"))
    let network = try #require(object["networks"]?.arrayValue?.first?.objectValue)
    #expect(network["name"] == .string("podman"))
    #expect(network["interfaces"]?.objectValue?["eth0"]?.objectValue?["gateway"] == .string("10.88.0.1"))
    #expect(object["statistics"]?.objectValue?["memwrite_time"] == .integer(6300))
  }

  /// Upstream shows the container without network details when `network.status` is not JSON; so do we, and
  /// say why on stderr.
  @Test(arguments: ["json", "tree"])
  func brokenNetworkStatusIsAWarning(_ format: String) throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    try checkpoint.write("not-valid-json\n", to: "network.status")
    let archive = try checkpoint.pack()
    let result = try CLI.run(["inspect", archive, "--format", format])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stderr
        == "Warning: \(archive):network.status is not valid JSON (invalid character 'o' in literal null "
        + "(expecting 'u')): network details are not shown\n")
    #expect(!result.stdout.contains("Network Interfaces"))
    #expect(!result.stdout.contains("\"networks\""))
    if format == "tree" { #expect(nonEmptyLines(result.stdout)[6] == "├── Engine: Podman") }
    // Podman writes `null` when the container has no network: no warning.
    try checkpoint.write("null", to: "network.status")
    let quiet = try CLI.run(["inspect", try checkpoint.pack("null.tar"), "--format", format])
    #expect(quiet.status == 0 && quiet.stderr == "")
  }

  @Test func severalArchivesAndRootFSDiff() throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    let first = try checkpoint.pack("test1.tar")
    let second = try checkpoint.pack("test2.tar.gz", compression: "gzip")
    let show = try CLI.run(["show", first, second])
    #expect(show.status == 0, "\(show.stderr)")
    let lines = nonEmptyLines(show.stdout)
    #expect(lines.count == 4)
    #expect(lines[2].contains("Podman") && lines[3].contains("Podman"))
    let inspect = try CLI.run(["inspect", first, second])
    #expect(inspect.status == 0)
    #expect(nonEmptyLines(inspect.stdout)[6].contains("Podman"))
    #expect(nonEmptyLines(inspect.stdout)[14].contains("Podman"))

    try checkpoint.write("1\n", to: "test.pid")
    try Tool.run("tar", ["-cf", checkpoint.root + "/rootfs-diff.tar", "-C", checkpoint.root, "test.pid"])
    let withDiff = try checkpoint.pack("diff.tar")
    let table = try CLI.run(["show", withDiff])
    #expect(nonEmptyLines(table.stdout)[1].hasSuffix("ROOT FS DIFF SIZE"))
    #expect(nonEmptyLines(table.stdout)[3].hasSuffix("10.0 KiB"))
    let tree = try CLI.run(["inspect", withDiff])
    #expect(nonEmptyLines(tree.stdout)[8] == "└── Root FS diff size: 10.0 KiB")
  }

  /// The views that need images work from just those images.
  @Test(arguments: compressions)
  func viewsNeedOnlyTheirImages(_ compression: String) throws {
    let tree = try UpstreamStyleCheckpoint()
    try tree.add(images: ["pstree.img", "core-*"])
    let treeArchive = try tree.pack(compression: compression)
    let psTree = try CLI.run(["inspect", treeArchive, "--ps-tree"])
    #expect(psTree.status == 0, "\(psTree.stderr)")
    let lines = nonEmptyLines(psTree.stdout)
    #expect(lines[8] == "└── Process tree")
    #expect(lines[9] == "    └── [1]  python3")
    let pid = try CLI.run(["inspect", treeArchive, "--ps-tree", "--pid", "6"])
    #expect(nonEmptyLines(pid.stdout)[9] == "    └── [6]  python3")
    let noPID = try CLI.run(["inspect", treeArchive, "--ps-tree", "--pid", "99999"])
    #expect(noPID.status == 1)
    #expect(noPID.stderr.contains("no process with PID 99999"))

    let files = try UpstreamStyleCheckpoint()
    try files.add(images: ["pstree.img", "core-*", "files.img", "fs-*", "ids-*", "fdinfo-*"])
    let filesResult = try CLI.run(["inspect", try files.pack(compression: compression), "--files"])
    #expect(filesResult.status == 0, "\(filesResult.stderr)")
    for expected in ["Open files", "[REG 0]", "[cwd]", "[root]"] { #expect(filesResult.stdout.contains(expected)) }

    let sockets = try UpstreamStyleCheckpoint()
    try sockets.add(images: ["pstree.img", "core-*", "files.img", "ids-*", "fdinfo-*"])
    let socketsArchive = try sockets.pack(compression: compression)
    let socketsResult = try CLI.run(["inspect", socketsArchive, "--sockets"])
    #expect(socketsResult.status == 0, "\(socketsResult.stderr)")
    #expect(socketsResult.stdout.contains("[TCP (LISTEN)]"))
    let socketsJSON = try CLI.run(["inspect", socketsArchive, "--sockets", "--format", "json"])
    let socket = try JSONValue(parsing: socketsJSON.stdoutBytes).arrayValue?.first?.objectValue?["sockets"]?
      .arrayValue?.first?.objectValue?["open_sockets"]?.arrayValue?.first?.objectValue
    #expect(socket?["protocol"] == .string("TCP"))

    let memory = try UpstreamStyleCheckpoint()
    try memory.add(images: ["pstree.img", "core-*", "pagemap-*", "pages-*", "mm-*"])
    let memoryArchive = try memory.pack(compression: compression)
    let command = try CLI.run(["inspect", memoryArchive, "--ps-tree-cmd"])
    #expect(command.status == 0, "\(command.stderr)")
    let commandLines = nonEmptyLines(command.stdout)
    #expect(commandLines[9] == "└── Process tree")
    #expect(commandLines[10] == "    └── [1]  python3 -u /netapp.py 10.88.0.1:7000")
    let environment = try CLI.run(["inspect", memoryArchive, "--ps-tree-env"])
    #expect(environment.status == 0, "\(environment.stderr)")
    #expect(nonEmptyLines(environment.stdout)[12].contains("="))
  }

  /// Only a view that needs a missing image fails: exit 1, one `Error:` line with upstream's phrase, the image
  /// and the archive.
  @Test(arguments: ["tree", "json"], compressions)
  func aViewWithoutItsImageFails(_ format: String, _ compression: String) throws {
    func expectError(
      _ checkpoint: UpstreamStyleCheckpoint, _ flags: [String], _ message: (String) -> String,
      sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
      let archive = try checkpoint.pack("x-\(flags.joined()).tar", compression: compression)
      let result = try CLI.run(["inspect", archive, "--format", format] + flags)
      #expect(result.status == 1, sourceLocation: sourceLocation)
      #expect(result.stdout == "", sourceLocation: sourceLocation)
      #expect(result.stderr == "Error: \(message(archive))\n", sourceLocation: sourceLocation)
    }
    // A checkpoint whose checkpoint/ is empty says so after upstream's phrase.
    let noImages = ": the checkpoint holds no CRIU images (checkpoint/ is empty)"
    let bare = try UpstreamStyleCheckpoint()
    try expectError(bare, ["--ps-tree"]) {
      "failed to get process tree: \($0): checkpoint/pstree.img: no such file or directory" + noImages
    }
    try expectError(bare, ["--stats"]) {
      "failed to get dump statistics: \($0): stats-dump: no such file or directory" + noImages
    }
    let badStats = try UpstreamStyleCheckpoint()
    try badStats.add(["spec.dump"])
    try Files.write(try #require(UpstreamStyleCheckpoint.source["spec.dump"]), to: badStats.root + "/stats-dump")
    try expectError(badStats, ["--stats"]) {
      "failed to get dump statistics: \($0):stats-dump: unknown magic 0x20200a7b at byte 0"
    }

    let tree = try UpstreamStyleCheckpoint()
    try tree.add(images: ["pstree.img", "core-*"])
    try expectError(tree, ["--files"]) {
      "failed to get file descriptors: \($0): checkpoint/files.img: no such file or directory"
    }
    try expectError(tree, ["--sockets"]) {
      "failed to get sockets: failed to get file descriptors: \($0): checkpoint/files.img: no such file or directory"
    }
    try tree.add(images: ["files.img", "ids-*", "fdinfo-*"])
    try expectError(tree, ["--files"]) {
      "failed to get file descriptors: \($0): checkpoint/fs-1.img: no such file or directory"
    }

    let noPages = try UpstreamStyleCheckpoint()
    try noPages.add(images: ["pstree.img", "core-*", "pagemap-*", "mm-*"])
    try expectError(noPages, ["--ps-tree-cmd"]) {
      "failed to process command line arguments: \($0): checkpoint/pages-1.img: no such file or directory"
    }
    try expectError(noPages, ["--ps-tree-env"]) {
      "failed to process environment variables: \($0): checkpoint/pages-1.img: no such file or directory"
    }
    let noMM = try UpstreamStyleCheckpoint()
    try noMM.add(images: ["pstree.img", "core-*", "pagemap-*", "pages-*"])
    try expectError(noMM, ["--ps-tree-cmd"]) {
      "failed to process command line arguments: \($0): checkpoint/mm-1.img: no such file or directory"
    }
  }

  @Test(arguments: compressions)
  func memparseNeedsOnlyWhatItReads(_ compression: String) throws {
    let table = try UpstreamStyleCheckpoint()
    try table.add(images: ["pstree.img", "core-*", "pagemap-*", "mm-*"])
    let sizes = try CLI.run(["memparse", try table.pack(compression: compression)])
    #expect(sizes.status == 0, "\(sizes.stderr)")
    #expect(nonEmptyLines(sizes.stdout)[3].hasPrefix("1     python3"))

    let noTree = try UpstreamStyleCheckpoint()
    try noTree.add(images: ["core-*", "pagemap-*", "mm-*"])
    let noTreeArchive = try noTree.pack(compression: compression)
    let missing = try CLI.run(["memparse", noTreeArchive])
    #expect(missing.status == 1)
    #expect(missing.stderr == "Error: \(noTreeArchive): checkpoint/pstree.img: no such file or directory\n")

    // Searching needs pstree.img, the pagemaps and the pages; not mm-N.img.
    let search = try UpstreamStyleCheckpoint()
    try search.add(images: ["pstree.img", "core-*", "pagemap-*", "pages-*"])
    let searchArchive = try search.pack(compression: compression)
    let found = try CLI.run(["memparse", "--search=HOSTNAME=", searchArchive, "--pid=1"])
    #expect(found.status == 0, "\(found.stderr)")
    let rows = nonEmptyLines(found.stdout)
    #expect(rows[2].hasPrefix("1     python3        00007ffe02952fd1   [unknown] ----   HOSTNAME="), "\(found.stdout)")
    let regex = try CLI.run(["memparse", "--search-regex=HOME=([^?]+)", searchArchive, "--pid=1"])
    #expect(regex.status == 0)
    #expect(nonEmptyLines(regex.stdout)[2].contains("HOME=/root"))
    let hex = try CLI.run(["memparse", "--search-hex=484f53544e414d45", searchArchive])
    #expect(hex.status == 0)
    #expect(hex.stdout.contains("HOSTNAME"))
    let none = try CLI.run(["memparse", "--search=NO_SUCH_NEEDLE_IN_MEMORY", searchArchive, "--pid=1"])
    #expect(none.status == 0)
    #expect(nonEmptyLines(none.stdout)[0].hasPrefix("No matches"))
    let negative = try CLI.run(["memparse", "--search=PATH", "--context=-1", searchArchive, "--pid=1"])
    #expect(negative.status == 1 && negative.stderr.contains("context size cannot be negative"))
    let noPID = try CLI.run(["memparse", "--search=PATH", searchArchive, "--pid=999"])
    #expect(noPID.status == 1 && noPID.stderr.contains("no process with PID 999"))
    // The hexdump reads the pages without the VMAs too.
    let dump = try CLI.run(["memparse", searchArchive, "--pid=1"])
    #expect(dump.status == 0, "\(dump.stderr)")
    #expect(
      nonEmptyLines(dump.stdout)[3].range(
        of: #"^[0-9a-f]{16}  ([0-9a-f]{2} ){16} \|.*\|$"#, options: .regularExpression) != nil)
    // Only what needs the VMAs says so.
    for flags in [["--vma", "heap"], ["--perm", "rw"]] {
      let filtered = try CLI.run(["memparse", "--search=PATH", searchArchive] + flags)
      #expect(filtered.status == 1)
      #expect(
        filtered.stderr
          == "Error: \(flags[0]) needs checkpoint/mm-1.img: \(searchArchive): checkpoint/mm-1.img: "
          + "no such file or directory\n")
    }
  }

  /// Not a checkpoint: upstream's checks in upstream's order, each stopping at the first failure with one line
  /// naming the archive (and the member), for `show`, `inspect` and `list`.
  @Test func notACheckpointInUpstreamsOrder() throws {
    let work = try TemporaryDirectory()
    let list = work.file("list")
    mkdir(list, 0o700)
    var cases: [(archive: String, message: String)] = []
    func add(_ name: String, _ build: (UpstreamStyleCheckpoint) throws -> Void, message: (String) -> String) throws {
      let checkpoint = try UpstreamStyleCheckpoint()
      try build(checkpoint)
      let archive = list + "/checkpoint-\(name).tar"
      try Tool.run("tar", ["-cf", archive, "."], in: checkpoint.root)
      cases.append((archive, message(archive)))
    }
    let empty = list + "/checkpoint-empty.tar"
    try Files.write([], to: empty)
    cases.append((empty, "checkpoint directory is missing in the archive file: \(empty) (it is empty)"))
    try add("no-config", { $0.remove("config.dump") }) { "\($0): config.dump: no such file or directory" }
    try add("empty-config", { try $0.write("", to: "config.dump") }) {
      "failed to unmarshal \($0):config.dump: unexpected end of JSON input"
    }
    try add("bad-config", { try $0.write("{\"id\": ", to: "config.dump") }) {
      "failed to unmarshal \($0):config.dump: unexpected end of JSON input"
    }
    try add("no-spec", { $0.remove("spec.dump") }) { "\($0): spec.dump: no such file or directory" }
    try add("empty-spec", { try $0.write("", to: "spec.dump") }) {
      "failed to unmarshal \($0):spec.dump: unexpected end of JSON input"
    }
    try add("bad-spec", { try $0.write("{\"annotations\" 1}", to: "spec.dump") }) {
      "failed to unmarshal \($0):spec.dump: invalid character '1' after object key"
    }
    // The metadata decides first: an empty config.dump in an archive without checkpoint/ names config.dump.
    try add(
      "empty-config-no-directory",
      { checkpoint in
        try checkpoint.write("", to: "config.dump")
        rmdir(checkpoint.root + "/checkpoint")
      }
    ) { "failed to unmarshal \($0):config.dump: unexpected end of JSON input" }
    try add("no-directory", { rmdir($0.root + "/checkpoint") }) {
      "checkpoint directory is missing in the archive file: \($0)"
    }
    for (archive, message) in cases {
      for command in ["show", "inspect"] {
        let result = try CLI.run([command, archive])
        #expect(result.status == 1, "\(command) \(archive)")
        #expect(result.stdout == "")
        #expect(result.stderr == "Error: \(message)\n")
      }
    }
    // list goes on past bad archives: after the `Listing` line, one line each, then the table.
    let good = try UpstreamStyleCheckpoint(.crio)
    try good.pack()
    try Tool.run("cp", [good.directory.file("test.tar"), list + "/checkpoint-good.tar"])
    let result = try CLI.runMerged(["list", list])
    #expect(result.status == 0)
    let lines = nonEmptyLines(result.output)
    #expect(lines[0] == "Listing checkpoints in path: \(list)")
    let expected = cases.sorted { $0.archive < $1.archive }.map {
      "Error extracting information from \($0.archive): \($0.message)"
    }
    #expect(Array(lines[1...cases.count]) == expected)
    #expect(lines[cases.count + 1].hasPrefix("NAMESPACE"))
    #expect(lines[cases.count + 3].hasPrefix("default     counters   counter     CRI-O"))
    #expect(lines[cases.count + 3].hasSuffix("checkpoint-good.tar"))
    #expect(lines.count == cases.count + 4)
  }
}
