import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The kubelet's pod checkpoint store (`/var/lib/kubelet/pod-checkpoints`): `show`, `extract` and `insert` of a
/// store built from the pod fixtures (the shared `kubelet-pod-checkpoints` fixture: the CRI-O pod as `web` and the
/// containerd pod as `db`), with the manifests' times fixed.
@Suite struct PodStoreTests {
  static let web = "checkpoint-web_default-2026-12-01T10:00:00Z"
  static let db = "checkpoint-db_prod-2026-12-02T11:30:00Z"
  /// A pod checkpoint the runtime never finished: the CRI-O pod without its manifest.
  static let aborted = "checkpoint-web_default-2026-12-03T08:15:00.25+01:00"

  /// The store `work/<name>`: `web` and `db`, and with `incomplete` the aborted one.
  static func store(in work: TemporaryDirectory, named name: String = "pod-checkpoints", incomplete: Bool = false)
    throws -> String
  {
    let store = work.file(name)
    #expect(mkdir(store, 0o755) == 0)
    _ = try PodCheckpointTests.copy("crio-pod", to: work, as: "\(name)/\(web)")
    _ = try PodCheckpointTests.copy("containerd-pod", to: work, as: "\(name)/\(db)")
    if incomplete {
      _ = try PodCheckpointTests.copy("crio-pod", to: work, as: "\(name)/\(aborted)")
      #expect(unlink("\(store)/\(aborted)/checkpoint-manifest.json") == 0)
    }
    return store
  }

  /// Expects `target` to hold exactly the pod checkpoints `names` of `source`: the same files, byte for byte, with
  /// the same times, files `0600` and directories `0700`, and nothing else (no temporary directory).
  static func expectSamePods(_ target: String, as source: String, _ names: [String]) throws {
    #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == names.sorted())
    #expect(Files.permissions(target) == 0o700)
    for name in names {
      let files = try FileManager.default.subpathsOfDirectory(atPath: "\(source)/\(name)").sorted()
      #expect(try FileManager.default.subpathsOfDirectory(atPath: "\(target)/\(name)").sorted() == files)
      #expect(Files.permissions("\(target)/\(name)") == 0o700)
      let expected = try Files.snapshot("\(source)/\(name)")
      let actual = try Files.snapshot("\(target)/\(name)")
      for file in files {
        let path = "\(target)/\(name)/\(file)"
        var info = stat()
        #expect(lstat(path, &info) == 0)
        if info.st_mode & S_IFMT == S_IFDIR {
          #expect(Files.permissions(path) == 0o700, "\(path)")
          continue
        }
        #expect(info.st_mode & S_IFMT == S_IFREG, "\(path)")
        #expect(Files.permissions(path) == 0o600, "\(path)")
        #expect(actual[file]?.0 == expected[file]?.0, "\(path)")
        // Times travel in whole seconds.
        #expect(actual[file].map { $0.1 / 1_000_000_000 } == expected[file].map { $0.1 / 1_000_000_000 }, "\(path)")
      }
    }
  }

  @Test func showListsThePodCheckpoints() throws {
    let work = try TemporaryDirectory()
    _ = try Self.store(in: work, incomplete: true)
    let table = try CLI.run(["show", "-t", "pod-checkpoints"], in: work.path)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stderr == "")
    #expect(table.stdout == (try Fixtures.golden("pods/store-show.txt", actual: table.stdout)))
    let json = try CLI.run(["show", "-t", "pod-checkpoints", "--format", "json"], in: work.path)
    #expect(json.status == 0, "\(json.stderr)")
    #expect(json.stdout == (try Fixtures.golden("pods/store-show.json", actual: json.stdout)))
    let entries = try #require(JSONValue(parsing: json.stdoutBytes).member("pod_checkpoints")?.arrayValue)
    #expect(entries.map { $0.member("name")?.stringValue } == [Self.db, Self.web, Self.aborted])
    #expect(entries.map { $0.member("state")?.stringValue } == ["complete", "complete", "incomplete"])
    #expect(entries[2].member("namespace")?.stringValue == "default")
    #expect(entries[2].member("checkpoint") == nil)
    #expect(entries[1].member("checkpoint")?.member("checkpointed")?.stringValue == "2026-12-01T10:00:01Z")
  }

  @Test func theContainerStoreIsStillShownAsBefore() throws {
    // A directory with checkpointed.pods is a container store even with pod checkpoints beside it.
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    try Files.write(try Files.read(Fixtures.kubeletStore + "/checkpointed.pods"), to: store + "/checkpointed.pods")
    let shown = try CLI.run(["show", "-t", store])
    #expect(shown.stdout.contains("ARCHIVE FOUND"), "\(shown.stdout)")
    let pod = try CLI.run(["extract", "-t", store, "--pod", "web", "-o", work.file("x.tar")])
    #expect(pod.status == 1)
    #expect(pod.stderr == "Error: \(store) is not a pod checkpoint store: --pod selects pod checkpoints of one\n")
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var output: String
    var arguments: [String]
    var pods: [String]
    var testDescription: String { "\(output) \(arguments.joined(separator: " "))" }
  }

  @Test(arguments: [
    Case(output: "pods.tar", arguments: ["-c", "none"], pods: [web, db]),
    Case(output: "pods.tar.zst", arguments: [], pods: [web, db]),
    Case(output: "web.tar", arguments: ["--pod", "web", "-c", "none"], pods: [web]),
    Case(output: "db.tar.zst", arguments: ["--pod", db], pods: [db]),
  ])
  func extractThenInsertGivesTheSameFiles(_ test: Case) throws {
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work, incomplete: true)
    let archive = work.file(test.output)
    let extracted = try CLI.run(["extract", "-t", store, "-o", archive] + test.arguments)
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(extracted.stdout == "\nExtracting checkpoint data from \(store)\n\n")
    // The incomplete one is left out, with a warning after the output (only when it was asked for).
    let skipped = "Warning: \(Self.aborted) is incomplete (it has no manifest): not extracted\n"
    #expect(extracted.stderr == (test.arguments.contains("--pod") && test.pods != [Self.web] ? "" : skipped))
    #expect(Files.permissions(archive) == 0o600)
    let magic = Array(try Files.read(archive).prefix(4))
    #expect((magic == [0x28, 0xb5, 0x2f, 0xfd]) == test.output.hasSuffix(".zst"))
    // Each pod checkpoint keeps its name; its manifest comes after its other files.
    let members = try TestArchive.read(archive).map { $0.0.path }
    #expect(Set(members.map { String($0.prefix { $0 != "/" }) }) == Set(test.pods))
    for pod in test.pods {
      let own = members.filter { $0.hasPrefix(pod + "/") }
      #expect(own.last == "\(pod)/checkpoint-manifest.json", "\(own)")
    }

    let target = work.file("node-b/pod-checkpoints")
    let inserted = try CLI.run(["insert", "-t", target, "-i", archive])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    #expect(inserted.stdout == "" && inserted.stderr == "")
    try Self.expectSamePods(target, as: store, test.pods)
    let shown = try CLI.run(["show", "-t", target, "--format", "json"])
    #expect(shown.stdout.components(separatedBy: "\"state\": \"complete\"").count == test.pods.count + 1)

    // Never over an existing pod checkpoint: the target is left as it was.
    let before = try Files.snapshot(target)
    let again = try CLI.run(["insert", "-t", target, "-i", archive])
    #expect(again.status == 1)
    let first = test.pods.sorted()[0]
    #expect(
      again.stderr
        == "Error: pod checkpoint \(first) in \(archive) conflicts with \(target): the target already has \(first); "
        + "nothing was changed\n")
    #expect(Files.same(before, try Files.snapshot(target)))
  }

  @Test func aProofOfConceptTarIsListedAndMovedAsItIs() throws {
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    let tar = "checkpoint-api_default-2026-11-30T09:00:00Z.tar"
    try Files.write(try Files.read(Fixtures.path("pods/legacy-pod.tar")), to: "\(store)/\(tar)")
    let json = try CLI.run(["show", "-t", store, "--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let entries = try #require(JSONValue(parsing: json.stdoutBytes).member("pod_checkpoints")?.arrayValue)
    #expect(entries.map { $0.member("state")?.stringValue } == ["archive", "complete", "complete"])
    #expect(entries[0].member("pod")?.stringValue == "api")
    #expect(try CLI.run(["extract", "-t", store, "-o", work.file("all.tar")]).status == 0)
    let target = work.file("target")
    let inserted = try CLI.run(["insert", "-t", target, "-i", work.file("all.tar")])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == [Self.db, tar, Self.web].sorted())
    #expect(try Files.read("\(target)/\(tar)") == (try Files.read("\(store)/\(tar)")))
    #expect(Files.permissions("\(target)/\(tar)") == 0o600)
  }

  @Test func anUnreadablePodCheckpointIsNamedAfterTheTable() throws {
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    try PodCheckpointTests.editContainer("\(store)/\(Self.db)", 0) { $0["archive"] = "../../evil.tar" }
    let shown = try CLI.run(["show", "-t", store])
    #expect(shown.status == 1)
    #expect(shown.stdout.contains("| db  | prod      | 2026-12-02T11:30:00Z |"), "\(shown.stdout)")
    #expect(shown.stdout.contains("unreadable"))
    #expect(shown.stderr.hasPrefix("Error: \(store)/\(Self.db)/checkpoint-manifest.json: container \"db\""))
    #expect(shown.stderr.split(separator: "\n").count == 1)
    let extracted = try CLI.run(["extract", "-t", store, "-o", work.file("x.tar")])
    #expect(extracted.status == 1)
    #expect(extracted.stderr.hasPrefix("Error: \(store)/\(Self.db)/checkpoint-manifest.json"), "\(extracted.stderr)")
    #expect(!Path.exists(work.file("x.tar")))
  }

  @Test func theManifestIsWrittenLastWhereverItIsInTheArchive() throws {
    // Members in any order (the manifest first, the directories implied): the insert is the same.
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    let names = ["checkpoint-manifest.json", "pod-config.json"] + PodStoreTests.crioArchives.map { "containers/\($0)" }
    try TestArchive.write(
      try names.map { .file("\(Self.web)/\($0)", try Files.read("\(store)/\(Self.web)/\($0)")) },
      to: work.file("reordered.tar"))
    // A killed insert's temporary directory is removed by the next one.
    let target = work.file("target")
    let stale = "\(target)/.checkpointctl-tmp-\(Self.web).aBcDeF"
    try FileManager.default.createDirectory(atPath: stale + "/containers", withIntermediateDirectories: true)
    try Files.write([1, 2, 3], to: stale + "/containers/partial.tar")
    let inserted = try CLI.run(["insert", "-t", target, "-i", work.file("reordered.tar")])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: target) == [Self.web])
    for name in names {
      #expect(try Files.read("\(target)/\(Self.web)/\(name)") == (try Files.read("\(store)/\(Self.web)/\(name)")))
    }
    let shown = try CLI.run(["show", "-t", target, "--format", "json"])
    #expect(shown.stdout.contains("\"state\": \"complete\""), "\(shown.stdout)")
  }

  /// The CRI-O fixture's container archives (`containers/<sha256 of the ID>.tar`).
  static let crioArchives = [
    "0945ffb250912d1c0f728dcf51f467143c524fba2d66a2ae01517ae46967f041.tar",
    "9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511.tar",
  ]

  @Test func extractRefusesUnknownPodsAndEmptySelections() throws {
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work, incomplete: true)
    let unknown = try CLI.run(["extract", "-t", store, "--pod", "api", "-o", work.file("x.tar")])
    #expect(unknown.status == 1)
    #expect(unknown.stderr == "Error: \(store) has no pod checkpoint of pod \"api\"\n")
    let incomplete = try CLI.run(["extract", "-t", store, "--pod", Self.aborted, "-o", work.file("x.tar")])
    #expect(incomplete.status == 1)
    #expect(incomplete.stderr == "Error: \(store) holds no complete pod checkpoint\n")
    #expect(!Path.exists(work.file("x.tar")))
  }

  /// Archives built here that try to write outside the target, or to pass off something else as a pod checkpoint.
  @Test(arguments: [
    ("dotdot", "path leads out of the target"),
    ("inner-dotdot", "unsafe member"),
    ("absolute", "absolute path"),
    ("symlink", "link to absolute path"),
    ("inner-symlink", "symbolic link"),
    ("manifest", "is not the name its id gives"),
    ("no-manifest", "is incomplete: it has no checkpoint-manifest.json"),
  ])
  func aHostileArchiveWritesNothingOutside(_ kind: String, _ message: String) throws {
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    let pod = Self.web + "/"
    let manifest = try Files.read("\(store)/\(Self.web)/checkpoint-manifest.json")
    let config = try Files.read("\(store)/\(Self.web)/pod-config.json")
    let members: [TestArchive.Member]
    switch kind {
    case "dotdot": members = [.file("../evil", [1])]
    case "inner-dotdot": members = [.directory(pod), .file(pod + "containers/../../../evil", [1])]
    case "absolute": members = [.file(work.file("evil"), [1])]
    case "symlink":
      members = [.directory(pod), .symlink(pod + "containers", to: work.path), .file(pod + "containers/evil", [1])]
    case "inner-symlink":
      members = [.directory(pod), .symlink(pod + "containers", to: "."), .file(pod + "containers/evil", [1])]
    case "manifest":
      // A manifest naming a file outside the pod checkpoint.
      let text = String(decoding: manifest, as: UTF8.self).replacingOccurrences(
        of: "containers/9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511.tar", with: "../../evil")
      members = [
        .file(pod + "pod-config.json", config), .file(pod + "checkpoint-manifest.json", Array(text.utf8)),
      ]
    default: members = [.file(pod + "pod-config.json", config)]
    }
    try TestArchive.write(members, to: work.file("hostile.tar"))
    let target = work.file("target")
    let result = try CLI.run(["insert", "-t", "target", "-i", "hostile.tar"], in: work.path)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["hostile.tar", "pod-checkpoints"])
    #expect(!Path.exists(target))
    // Into an existing store: it is left exactly as it was, with no temporary directory.
    let before = try Files.snapshot(store)
    let into = try CLI.run(["insert", "-t", store, "-i", work.file("hostile.tar")])
    #expect(into.status == 1)
    #expect(Files.same(before, try Files.snapshot(store)))
    #expect(!Path.exists(work.file("evil")) && !Path.exists("/evil"))
  }
}

/// The pod checkpoint store through an OCI archive and a registry, as the container store travels.
@Suite(.enabled(if: ImageTools.skopeo, "skopeo is not installed (make test installs it)"))
struct PodStoreImageTests {
  @Test func ociArchiveRoundTrip() throws {
    let work = try TemporaryDirectory()
    let store = try PodStoreTests.store(in: work, incomplete: true)
    let image = "oci-archive:\(work.file("pods.oci.tar")):v1"
    let extracted = try CLI.run(["extract", "-t", store, "-o", image])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(extracted.stderr.hasPrefix("Warning: \(PodStoreTests.aborted) is incomplete"))
    let index = try ImageTools.annotations(try Tool.run("skopeo", ["inspect", "--raw", image]))
    #expect(index[StoreImageAnnotation.pods] == "2")
    #expect(index[StoreImageAnnotation.archives] == "2")
    let target = work.file("node-b")
    let inserted = try CLI.run(["insert", "-t", target, "-i", image])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    try PodStoreTests.expectSamePods(target, as: store, [PodStoreTests.web, PodStoreTests.db])
    // The same store gives the same image.
    let again = try CLI.run(["extract", "-t", store, "-o", "oci-archive:\(work.file("again.oci.tar")):v1"])
    #expect(again.stdout.split(separator: "\n").last == extracted.stdout.split(separator: "\n").last)
  }

  @Test(.enabled(if: TestRegistry.available, "docker-registry is not installed (make test installs it)"))
  func registryRoundTrip() throws {
    let registry = try TestRegistry()
    let work = try TemporaryDirectory()
    let store = try PodStoreTests.store(in: work)
    let image = "docker://\(registry.host)/pods/node1:v1"
    let pushed = try CLI.run(["extract", "-t", store, "--pod", "db", "-o", image, "--tls-verify=false"])
    #expect(pushed.status == 0, "\(pushed.stderr)")
    let target = work.file("node-b")
    let inserted = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    try PodStoreTests.expectSamePods(target, as: store, [PodStoreTests.db])
  }
}
