import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// Every container checkpoint archive among the fixtures.
let containerFixtures = [
  "busybox-sleep.tar", "busybox-sleep.tar.gz", "busybox-sleep.tar.zst", "busybox-sleep-default-compress.tar",
  "busybox-ptree.tar", "debian-net.tar.gz", "busybox-diff-1.tar", "busybox-diff-2.tar", "busybox-needle.tar",
  "busybox-in-pod.tar", "busybox-tty.tar", "busybox-memhog64.tar.zst", "busybox-shm.tar.gz",
]

/// Reference output of the Go checkpointctl for a fixture command.
func referenceOutput(_ name: String) throws -> String {
  try String(contentsOfFile: Fixtures.path("reference-output/" + name), encoding: .utf8)
}

/// Checkpoint archives as CRI-O and containerd write them, from busybox-sleep's CRIU images (FORMATS.md §3.5).
enum EngineCheckpoints {
  /// CRI-O: checkpointctl's ContainerConfig with checkpointedTime; name, pod and creation time in annotations.
  static let crioConfig = """
    {"id": "6924be1bd90c23f10e2667102b0ee0f74f09bba78b6661871e733cb3b1737821",
     "name": "k8s_counter_counters_default_6975ee47-6765-45dc-9a2b-1e38d51031f7_0",
     "rootfsImageName": "quay.io/adrianreber/counter:latest", "runtime": "runc",
     "createdTime": "2024-01-27T14:45:26.083444055Z", "checkpointedTime": "2024-01-28T00:10:45.673538606+05:30"}
    """
  static let crioSpec = """
    {"annotations": {"io.container.manager": "cri-o", "io.kubernetes.cri-o.Metadata": "{\\"name\\":\\"counter\\"}",
     "io.kubernetes.cri-o.Created": "2024-01-27T14:45:26.083444055Z", "io.kubernetes.pod.name": "counters",
     "io.kubernetes.pod.namespace": "default"}}
    """
  /// containerd: no manager annotation; CRI annotations name the container and pod.
  static let containerdConfig = """
    {"id": "b1f6bd7b0e8a4a4c7e3ce2b1a0f4ed6c0fe5d0b7a4c1b9e2f3a4d5c6b7a8f9e0", "name": "nginx",
     "rootfsImageName": "docker.io/library/nginx:latest", "runtime": "io.containerd.runc.v2",
     "createdTime": "2024-02-09T10:11:12.5+01:00", "checkpointedTime": "2024-02-09T10:20:00.25+01:00"}
    """
  static let containerdSpec = """
    {"annotations": {"io.kubernetes.cri.container-name": "web", "io.kubernetes.cri.sandbox-name": "web-0",
     "io.kubernetes.cri.sandbox-namespace": "prod"}}
    """

  /// Writes busybox-sleep's `checkpoint/` plus the given metadata (nil leaves a member out).
  static func write(
    to path: String, config: String?, spec: String?, extra: [TestArchive.Member] = [],
    compression: ArchiveFilter = .none
  ) throws {
    var members: [TestArchive.Member] = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).compactMap {
      entry, bytes in
      entry.kind == .regular && entry.path.hasPrefix("checkpoint/") ? .file(entry.path, bytes) : nil
    }
    if let config { members.append(.file("config.dump", Array(config.utf8))) }
    if let spec { members.append(.file("spec.dump", Array(spec.utf8))) }
    try TestArchive.write(members + extra, to: path, compression: compression)
  }
}

@Suite struct ContainerShowTests {
  @Test(arguments: containerFixtures)
  func fixtureMatchesUpstream(_ fixture: String) throws {
    let result = try CLI.run(["show", fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    #expect(result.stdout == (try referenceOutput("\(fixture).show.txt")))
    #expect(result.stdout == (try Fixtures.golden("show/container-\(fixture).txt", actual: result.stdout)))
  }

  @Test func severalInputsMatchUpstream() throws {
    let result = try CLI.run(
      ["show", "busybox-sleep.tar", "busybox-ptree.tar", "debian-net.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try referenceOutput("multi.show.txt")))
    #expect(result.stdout == (try Fixtures.golden("show/container-multi.txt", actual: result.stdout)))
  }

  @Test func unpackedDirectoryShowsLikeItsArchive() throws {
    let directory = try TemporaryDirectory()
    mkdir(directory.file("fx-ptree"), 0o700)
    try SafeExtraction.extract(
      try ArchiveReader(path: Fixtures.path("busybox-ptree.tar")), into: directory.file("fx-ptree"))
    let result = try CLI.run(["show", "fx-ptree"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout
        == (try referenceOutput("busybox-ptree.tar.show.txt")).replacingOccurrences(
          of: "from busybox-ptree.tar\n", with: "from fx-ptree\n"))
    // A directory and archives mixed.
    let mixed = try CLI.run(["show", "fx-ptree", Fixtures.path("busybox-sleep.tar")], in: directory.path)
    #expect(mixed.status == 0)
    #expect(mixed.stdout.split(separator: "\n").count == 4)
  }

  /// A checkpoint that can only be read in order (`show <(cat x.tar)`) reads like the file itself.
  @Test(arguments: ["busybox-ptree.tar", "busybox-sleep.tar.zst"])
  func pipeShowsAndInspectsLikeItsFile(_ fixture: String) throws {
    let directory = try TemporaryDirectory()
    for command in [["show"], ["inspect", "--all"]] {
      let bytes = try Files.read(Fixtures.path(fixture))
      let fifo = try Files.fifo(named: "pipe", in: directory, feeding: bytes)
      let piped = try CLI.run(command + ["pipe"], in: directory.path)
      let file = try CLI.run(command + [fixture], in: Fixtures.root)
      #expect(piped.status == 0, "\(piped.stderr)")
      #expect(piped.stdout.replacingOccurrences(of: " from pipe\n", with: " from \(fixture)\n") == file.stdout)
      unlink(fifo)
    }
  }

  @Test func engines() throws {
    let directory = try TemporaryDirectory()
    try EngineCheckpoints.write(
      to: directory.file("crio.tar"), config: EngineCheckpoints.crioConfig, spec: EngineCheckpoints.crioSpec)
    try EngineCheckpoints.write(
      to: directory.file("containerd.tar.gz"), config: EngineCheckpoints.containerdConfig,
      spec: EngineCheckpoints.containerdSpec, compression: .gzip)
    let result = try CLI.run(
      ["show", "crio.tar", "containerd.tar.gz", Fixtures.path("busybox-sleep.tar")], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try Fixtures.golden("show/container-engines.txt", actual: result.stdout)))
    #expect(result.stdout.contains("counter     quay.io/adrianreber/counter:latest   6924be1bd90c"))
    #expect(result.stdout.contains("   CRI-O   "))
    #expect(result.stdout.contains("web         docker.io/library/nginx:latest"))
    // CRI-O's creation time is its annotation, verbatim as upstream shows it; containerd's is config.dump's.
    #expect(result.stdout.contains(" 2024-01-27T14:45:26.083444055Z   CRI-O "))
    #expect(result.stdout.contains(" 2024-02-09T10:11:12+01:00        containerd "))
  }

  @Test func kubeletApiArchivesInTheTargetDirectory() throws {
    let directory = try TemporaryDirectory()
    let kubelet = try KubeletDirectory.make(in: directory)
    let result = try CLI.run(["show", "-t", "kubelet-dir"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    let expected = try CLI.run(
      ["show"] + KubeletDirectory.names.map { "kubelet-dir/" + $0 }, in: directory.path)
    #expect(result.stdout == expected.stdout)
    #expect(result.stdout.contains("fx-podctr") && result.stdout.contains("fx-sleep"))
    let asJSON = try CLI.run(["show", "-t", "kubelet-dir", "--format", "json"], in: directory.path)
    #expect(asJSON.status == 0)
    #expect(try JSONValue(parsing: asJSON.stdoutBytes).arrayValue?.count == 2)
    let withUID = try CLI.run(["show", "-t", "kubelet-dir", "--show-pod-uid"], in: directory.path)
    #expect(withUID.status == 1)
    #expect(
      withUID.stderr == "Error: kubelet-dir holds container checkpoints; --show-pod-uid applies to pod stores only\n")
    // The pod store keeps its own table when checkpointed.pods is there.
    try Files.write(
      try Files.read(Fixtures.path("kubelet-multi/checkpointed.pods")), to: kubelet + "/checkpointed.pods")
    let store = try CLI.run(["show", "-t", "kubelet-dir"], in: directory.path)
    #expect(store.stdout.hasPrefix("\nDisplaying data from kubelet-dir/checkpointed.pods\n"))
    // Pod UIDs are for pod stores only.
    let uid = try CLI.run(["show", "--show-pod-uid", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(uid.status == 1)
    #expect(uid.stderr.hasPrefix("Error: --show-pod-uid applies to the kubelet store"))
  }

  @Test func oneBadInputAmongSeveralIsReportedAndTheRestShown() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.run(
      ["show", "busybox-sleep.tar", directory.file("nope.tar"), "raw/piggie", "busybox-ptree.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(
      result.stderr == """
        Error: stat \(directory.file("nope.tar")): no such file or directory
        Error: raw/piggie: config.dump: no such file or directory (a CRIU image directory, not a container checkpoint)

        """)
    // The table keeps the several-inputs layout and holds the readable ones.
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines[0].hasSuffix("CHKPT SIZE   ROOT FS DIFF SIZE"))
    #expect(lines[2].hasPrefix("fx-sleep ") && lines[3].hasPrefix("fx-ptree "))
  }

  /// Each bad input gives one `Error:` line naming it, exit 1, and no trap.
  @Test func badInputsAreClearErrors() throws {
    let directory = try TemporaryDirectory()
    let sleep = try Files.read(Fixtures.path("busybox-sleep.tar"))
    let config = EngineCheckpoints.containerdConfig
    let spec = EngineCheckpoints.containerdSpec
    try EngineCheckpoints.write(to: directory.file("no-config.tar"), config: nil, spec: spec)
    try EngineCheckpoints.write(to: directory.file("no-spec.tar.zst"), config: config, spec: nil, compression: .zstd)
    try EngineCheckpoints.write(to: directory.file("empty-config.tar"), config: "", spec: spec)
    try EngineCheckpoints.write(to: directory.file("empty-spec.tar"), config: config, spec: "")
    try EngineCheckpoints.write(to: directory.file("bad-config.tar"), config: "{\"id\": ", spec: spec)
    try EngineCheckpoints.write(to: directory.file("bad-spec.tar.gz"), config: config, spec: "[]", compression: .gzip)
    try EngineCheckpoints.write(
      to: directory.file("bad-crio.tar"), config: config,
      spec: #"{"annotations": {"io.container.manager": "cri-o", "io.kubernetes.cri-o.Metadata": "{"}}"#)
    // Upstream wrote this member outside its temporary directory (tar-slip); we refuse the archive.
    try EngineCheckpoints.write(
      to: directory.file("slip.tar"), config: config, spec: spec,
      extra: [.file("../slipped/spec.dump", Array(spec.utf8))])
    try Files.write(Array(sleep[..<(sleep.count / 2)]), to: directory.file("truncated.tar"))
    try Files.write(pseudoRandomBytes(count: 5000), to: directory.file("garbage.tar"))
    try Files.write([], to: directory.file("zero-bytes.tar"))
    try TestArchive.write([], to: directory.file("no-members.tar"))
    try Files.write([1], to: directory.file("plain-dir-file"))
    mkdir(directory.file("plain-dir"), 0o700)
    try Files.write([1], to: directory.file("plain-dir/hello.txt"))
    let cases: [(String, String)] = [
      ("missing.tar", "Error: stat missing.tar: no such file or directory"),
      ("plain-dir", "Error: plain-dir is not a checkpoint: it has no CRIU images and no checkpoint directory"),
      ("no-config.tar", "Error: no-config.tar: config.dump: no such file or directory"),
      ("no-spec.tar.zst", "Error: no-spec.tar.zst: spec.dump: no such file or directory"),
      ("empty-config.tar", "Error: failed to unmarshal empty-config.tar:config.dump: unexpected end of JSON input"),
      ("empty-spec.tar", "Error: failed to unmarshal empty-spec.tar:spec.dump: unexpected end of JSON input"),
      ("bad-config.tar", "Error: failed to unmarshal bad-config.tar:config.dump: unexpected end of JSON input"),
      ("bad-spec.tar.gz", "Error: failed to unmarshal bad-spec.tar.gz:spec.dump: expected an object"),
      ("bad-crio.tar", "Error: bad-crio.tar: failed to read io.kubernetes.cri-o.Metadata: \"{\" is not a JSON object"),
      ("slip.tar", "Error: archive slip.tar has an unsafe member \"../slipped/spec.dump\""),
      ("truncated.tar", "Error: reading truncated.tar: Truncated"),
      ("garbage.tar", "Error: reading garbage.tar: "),
      ("zero-bytes.tar", "Error: checkpoint directory is missing in the archive file: zero-bytes.tar"),
      ("no-members.tar", "Error: checkpoint directory is missing in the archive file: no-members.tar"),
    ]
    for (input, message) in cases {
      let result = try CLI.run(["show", input], in: directory.path)
      #expect(result.status == 1, "\(input)")
      #expect(result.stdout == "", "\(input)")
      #expect(result.stderr.hasPrefix(message), "\(input): \(result.stderr)")
      #expect(result.stderr.contains(input), "\(input): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(input): \(result.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: directory.file("../slipped")))
  }
}
