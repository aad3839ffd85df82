import Archive
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// Pod checkpoints (KEP-5823 layouts and the legacy one) as inputs of `show`, `inspect`, `memparse` and
/// `coredump`, from copies of the fixtures with the manifest's time fixed, and hostile variants made here.
@Suite struct PodCheckpointTests {
  /// The time the copies' manifests say they were written (2026-12-01T10:00:01Z).
  static let checkpointed: time_t = 1_796_119_201

  /// Copies the pod fixture `name` into `work` under `as`, the manifest (or `pod.options`) dated ``checkpointed``.
  static func copy(_ name: String, to work: TemporaryDirectory, as copy: String? = nil) throws -> String {
    let destination = work.file(copy ?? name)
    try Files.copyTree(Fixtures.path("pods/" + name), to: destination)
    for marker in ["checkpoint-manifest.json", "pod.options"] where Path.exists(destination + "/" + marker) {
      var times = [timespec(tv_sec: checkpointed, tv_nsec: 0), timespec(tv_sec: checkpointed, tv_nsec: 0)]
      #expect(utimensat(AT_FDCWD, destination + "/" + marker, &times, 0) == 0)
    }
    return destination
  }

  /// The legacy fixture unpacked (`tar xf`, as a user would) into `work/legacy-pod`.
  static func legacy(in work: TemporaryDirectory) throws -> String {
    let destination = work.file("legacy-pod")
    try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
    try Tool.run("tar", ["xf", Fixtures.path("pods/legacy-pod.tar"), "-C", destination])
    var times = [timespec(tv_sec: checkpointed, tv_nsec: 0), timespec(tv_sec: checkpointed, tv_nsec: 0)]
    #expect(utimensat(AT_FDCWD, destination + "/pod.options", &times, 0) == 0)
    return destination
  }

  /// Rewrites the manifest of the pod at `pod` with `change`.
  static func editManifest(_ pod: String, _ change: (inout [String: Any]) -> Void) throws {
    let path = pod + "/checkpoint-manifest.json"
    var manifest = try #require(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    change(&manifest)
    try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path))
  }

  /// Rewrites the manifest's container `index` of the pod at `pod` with `change`.
  static func editContainer(_ pod: String, _ index: Int, _ change: @escaping (inout [String: Any]) -> Void) throws {
    try editManifest(pod) { manifest in
      var containers = manifest["containers"] as! [[String: Any]]
      change(&containers[index])
      manifest["containers"] = containers
    }
  }

  @Test func showGivesThePodThenItsContainers() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    let table = try CLI.run(["show", "crio-pod"], in: work.path)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stderr == "")
    #expect(table.stdout == (try Fixtures.golden("pods/show-crio.txt", actual: table.stdout)))
    let json = try CLI.run(["show", "crio-pod", "--format", "json"], in: work.path)
    #expect(json.status == 0)
    #expect(json.stdout == (try Fixtures.golden("pods/show-crio.json", actual: json.stdout)))
    let rows = try #require(JSONValue(parsing: json.stdoutBytes).arrayValue)
    #expect(rows.map { $0.member("container_name")?.stringValue } == ["fx-sleep", "fx-ptree"])
    #expect(rows.allSatisfy { $0.member("pod")?.member("sandbox_id")?.stringValue?.hasPrefix("8886bfd1f3ca") == true })
  }

  @Test func inspectGivesThePodThenEachContainersTree() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    let tree = try CLI.run(["inspect", "crio-pod", "--ps-tree"], in: work.path)
    #expect(tree.status == 0, "\(tree.stderr)")
    #expect(tree.stdout == (try Fixtures.golden("pods/inspect-crio-ps-tree.txt", actual: tree.stdout)))
    // Each container's tree is exactly what inspect shows of its archive alone.
    for (archive, fixture) in [
      ("9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511", "busybox-sleep.tar"),
      ("0945ffb250912d1c0f728dcf51f467143c524fba2d66a2ae01517ae46967f041", "busybox-ptree.tar"),
    ] {
      let alone = try CLI.run(["inspect", Fixtures.path(fixture), "--ps-tree"])
      let body = alone.stdout.components(separatedBy: "\n\n").dropFirst(2).joined(separator: "\n\n")
      #expect(tree.stdout.contains("from crio-pod/containers/\(archive).tar\n\n" + body))
    }
    let one = try CLI.run(
      ["inspect", "crio-pod", "--container", "fx-ptree", "--all", "--format", "json"], in: work.path)
    #expect(one.status == 0, "\(one.stderr)")
    #expect(one.stdout == (try Fixtures.golden("pods/inspect-crio-fx-ptree-all.json", actual: one.stdout)))
    let document = try #require(JSONValue(parsing: one.stdoutBytes).arrayValue)
    #expect(document.count == 1)
    #expect(document[0].member("pod")?.member("name")?.stringValue == "web")
    #expect(document[0].member("containers")?.arrayValue?.count == 1)
  }

  @Test func memparseAndCoredumpTakeEachContainer() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    let search = try CLI.run(
      ["memparse", "crio-pod", "--container", "fx-ptree", "--search", "SECRET_TOKEN"], in: work.path)
    #expect(search.status == 0, "\(search.stderr)")
    let alone = try CLI.run(["memparse", Fixtures.path("busybox-ptree.tar"), "--search", "SECRET_TOKEN"])
    #expect(search.stdout == alone.stdout)
    let table = try CLI.run(["memparse", "crio-pod"], in: work.path)
    #expect(
      table.stdout.components(separatedBy: "Displaying processes memory sizes from crio-pod/containers/").count == 3)
    // --pid needs one container.
    let ambiguous = try CLI.run(["memparse", "crio-pod", "--pid", "1"], in: work.path)
    #expect(ambiguous.status == 1)
    #expect(
      ambiguous.stderr
        == "Error: crio-pod is a pod checkpoint of 2 containers: choose one with --container (\"fx-sleep\", \"fx-ptree\")\n"
    )
    // One directory per container, each core the same bytes as the container archive's own.
    let cores = try CLI.run(["coredump", "crio-pod", "-o", "cores"], in: work.path)
    #expect(cores.status == 0, "\(cores.stderr)")
    let reference = try CLI.run(["coredump", Fixtures.path("busybox-ptree.tar"), "-o", work.file("ptree")])
    #expect(reference.status == 0)
    for pid in [1, 9, 10, 11, 12, 19, 20] {
      #expect(try Files.read(work.file("cores/fx-ptree/core.\(pid)")) == Files.read(work.file("ptree/core.\(pid)")))
    }
    #expect(Path.exists(work.file("cores/fx-sleep/core.1")))
    #expect(Files.permissions(work.file("cores/fx-sleep")) == 0o700)
    #expect(Files.permissions(work.file("cores/fx-sleep/core.1")) == 0o600)
  }

  @Test func legacyLayoutIsReadFromPodOptions() throws {
    let work = try TemporaryDirectory()
    _ = try Self.legacy(in: work)
    let table = try CLI.run(["show", "legacy-pod"], in: work.path)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stdout == (try Fixtures.golden("pods/show-legacy.txt", actual: table.stdout)))
    let tree = try CLI.run(["inspect", "legacy-pod", "--container", "fx-sleep"], in: work.path)
    #expect(tree.status == 0, "\(tree.stderr)")
    #expect(tree.stdout.contains("Runtime: containerd\n"))
    #expect(tree.stdout.contains("Sandbox ID: d0204c9682745a68f357ab6c2eb16ec040b994fa6ee69b8cdc214d4dc5cbf37c"))
    #expect(
      tree.stdout.contains(
        "from legacy-pod/0f674aee6d9562cc20c6b76357079eb7a312cf3ec8ec00ec98392539d290d2d1-fx-sleep\n"))
  }

  /// A tar of the pod directory as users make it (plain, zstd, gzip, with or without `./`) reads as the directory:
  /// the containers in place or as the tar is decompressed, nothing unpacked.
  @Test func podArchivesReadAsTheirDirectory() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    try Tool.run("tar", ["cf", "pod.tar", "-C", "crio-pod", "."], in: work.path)
    try Tool.run("sh", ["-c", "tar cf - -C crio-pod . | zstd -q -o pod.tar.zst"], in: work.path)
    try Tool.run(
      "tar", ["czf", "pod.tgz", "-C", "crio-pod", "checkpoint-manifest.json", "containers", "pod-config.json"],
      in: work.path)
    let directory = try CLI.run(["show", "crio-pod"], in: work.path)
    let search = try CLI.run(
      ["memparse", "crio-pod", "--container", "fx-ptree", "--search", "SECRET_TOKEN"], in: work.path)
    let cores = try CLI.run(["coredump", "crio-pod", "-o", "cores"], in: work.path)
    #expect(cores.status == 0)
    for archive in ["pod.tar", "pod.tar.zst", "pod.tgz"] {
      let show = try CLI.run(["show", archive], in: work.path)
      #expect(show.status == 0, "\(archive): \(show.stderr)")
      #expect(show.stdout == directory.stdout.replacingOccurrences(of: "from crio-pod\n", with: "from \(archive)\n"))
      let found = try CLI.run(
        ["memparse", archive, "--container", "fx-ptree", "--search", "SECRET_TOKEN"], in: work.path)
      #expect(found.stdout == search.stdout, "\(archive)")
      let tree = try CLI.run(["inspect", archive, "--container", "fx-sleep"], in: work.path)
      #expect(
        tree.stdout.contains(
          "from \(archive)/containers/9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511.tar\n"))
      let written = try CLI.run(["coredump", archive, "-o", archive + "-cores"], in: work.path)
      #expect(written.status == 0, "\(archive): \(written.stderr)")
      for core in ["fx-sleep/core.1", "fx-ptree/core.1", "fx-ptree/core.20"] {
        #expect(try Files.read(work.file("\(archive)-cores/\(core)")) == Files.read(work.file("cores/\(core)")))
      }
    }
    // The legacy layout as its writers packed it (sorted names, directory entries).
    let legacy = try CLI.run(["show", Fixtures.path("pods/legacy-pod.tar")], in: work.path)
    #expect(legacy.status == 0, "\(legacy.stderr)")
    #expect(
      legacy.stdout.replacingOccurrences(of: Fixtures.path("pods/"), with: "")
        == (try Fixtures.golden(
          "pods/show-legacy-tar.txt", actual: legacy.stdout.replacingOccurrences(of: Fixtures.path("pods/"), with: "")))
    )
    let unpacked = try Self.legacy(in: work)
    let legacyTree = try CLI.run(["inspect", Fixtures.path("pods/legacy-pod.tar"), "--container", "fx-ptree", "--all"])
    let unpackedTree = try CLI.run(["inspect", unpacked, "--container", "fx-ptree", "--all"])
    #expect(legacyTree.status == 0, "\(legacyTree.stderr)")
    let body = { (text: String) in
      text.components(separatedBy: "Displaying container checkpoint tree view from").last!.drop { $0 != "\n" }
    }
    #expect(body(legacyTree.stdout) == body(unpackedTree.stdout))
  }

  /// containerd's layout: each container a containerd checkpoint image in an OCI layout tar, read from the
  /// directory and from tars of it (in place, or as the tar is decompressed).
  @Test func containerdPodsReadTheirImages() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("containerd-pod", to: work)
    try Tool.run("tar", ["cf", "pod.tar", "-C", "containerd-pod", "."], in: work.path)
    try Tool.run("sh", ["-c", "tar cf - -C containerd-pod . | zstd -q -o pod.tar.zst"], in: work.path)
    let table = try CLI.run(["show", "containerd-pod"], in: work.path)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stdout == (try Fixtures.golden("pods/show-containerd.txt", actual: table.stdout)))
    let tree = try CLI.run(["inspect", "containerd-pod", "--all"], in: work.path)
    #expect(tree.status == 0, "\(tree.stderr)")
    #expect(tree.stdout == (try Fixtures.golden("pods/inspect-containerd-all.txt", actual: tree.stdout)))
    let search = try CLI.run(["memparse", "containerd-pod", "--search", "CTRFX_NEEDLE_7f3a"], in: work.path)
    #expect(search.status == 0)
    #expect(search.stdout.contains("CTRFX_NEEDLE_7f3a"))
    let cores = try CLI.run(["coredump", "containerd-pod", "-o", "cores"], in: work.path)
    #expect(cores.status == 0, "\(cores.stderr)")
    for archive in ["pod.tar", "pod.tar.zst"] {
      let show = try CLI.run(["show", archive], in: work.path)
      #expect(show.stdout == table.stdout.replacingOccurrences(of: "from containerd-pod\n", with: "from \(archive)\n"))
      let found = try CLI.run(["memparse", archive, "--search", "CTRFX_NEEDLE_7f3a"], in: work.path)
      #expect(found.stdout == search.stdout, "\(archive): \(found.stderr)")
      let written = try CLI.run(["coredump", archive, "-o", archive + "-cores"], in: work.path)
      #expect(written.status == 0, "\(archive): \(written.stderr)")
      for name in try FileManager.default.contentsOfDirectory(atPath: work.file("cores/db")) {
        #expect(try Files.read(work.file("\(archive)-cores/db/\(name)")) == Files.read(work.file("cores/db/\(name)")))
      }
    }
  }

  /// `verify` of pod checkpoints: every container verified, CRI-O's SHA-256 of each archive checked, in every form.
  @Test func verifyChecksEveryContainerAndEachArchiveDigest() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    _ = try Self.copy("containerd-pod", to: work)
    try Tool.run("sh", ["-c", "tar cf - -C crio-pod . | zstd -q -o crio.tar.zst"], in: work.path)
    try Tool.run("tar", ["cf", "containerd.tar", "-C", "containerd-pod", "."], in: work.path)
    let intact = try CLI.run(
      ["verify", "crio-pod", "crio.tar.zst", "containerd-pod", "containerd.tar", Fixtures.path("pods/legacy-pod.tar")],
      in: work.path)
    #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
    #expect(
      intact.stdout.replacingOccurrences(of: Fixtures.path("pods/"), with: "")
        == """
        crio-pod: intact (105 members, 71 images, 131 pages)
        crio.tar.zst: intact (105 members, 71 images, 131 pages)
        containerd-pod: intact (39 members, 28 images, 49 pages)
        containerd.tar: intact (39 members, 28 images, 49 pages)
        legacy-pod.tar: intact (105 members, 71 images, 131 pages)

        """)
    // The shared crio-pod-tampered fixture: one byte of fx-ptree's pages changed after the manifest was written.
    let tampered = try Self.copy("crio-pod", to: work, as: "tampered")
    let member = "containers/0945ffb250912d1c0f728dcf51f467143c524fba2d66a2ae01517ae46967f041.tar"
    var bytes = try Files.read(tampered + "/" + member)
    bytes[130339] = 0x0c
    try Files.write(bytes, to: tampered + "/" + member)
    let pod = try Self.copy("crio-pod", to: work, as: "incomplete")
    try FileManager.default.removeItem(atPath: pod + "/checkpoint-manifest.json")
    let problems = try CLI.run(["verify", "tampered", "incomplete", "--format", "json"], in: work.path)
    #expect(problems.status == 1)
    let reports = try #require(JSONValue(parsing: problems.stdoutBytes).arrayValue)
    #expect(reports.map { $0.member("kind")?.stringValue } == ["pod", "pod"])
    #expect(reports.map { $0.member("intact") } == [.bool(false), .bool(false)])
    let found = reports.flatMap { $0.member("problems")?.arrayValue ?? [] }
    #expect(found.map { $0.member("member")?.stringValue } == [member, nil])
    #expect(
      found.map { $0.member("problem")?.stringValue } == [
        "SHA-256 is 320ec69483f8aac5354f8a4f179781d9b33662c6fc1b608b320869ce2f00d788, the manifest says "
          + "3277b7226aac319f6e494ed9d6a850326278dfdc23d646d4ee0e1ef56f8d8200",
        "incomplete is an incomplete pod checkpoint (no checkpoint-manifest.json)",
      ])
  }

  /// `verify` of the kubelet's pod checkpoint store: each pod checkpoint verified, an incomplete one a problem.
  @Test func verifyChecksThePodStore() throws {
    let work = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: work.file("store"), withIntermediateDirectories: true)
    _ = try Self.copy("crio-pod", to: work, as: "store/checkpoint-web_default-2026-12-01T10:00:00Z")
    _ = try Self.copy("containerd-pod", to: work, as: "store/checkpoint-db_prod-2026-12-02T11:30:00Z")
    let intact = try CLI.run(["verify", "store"], in: work.path)
    #expect(intact.status == 0, "\(intact.stdout)")
    #expect(intact.stdout == "store: intact (146 members, 99 images, 180 pages)\n")
    let partial = try Self.copy("crio-pod", to: work, as: "store/checkpoint-web_default-2026-12-03T10:00:00Z")
    try FileManager.default.removeItem(atPath: partial + "/checkpoint-manifest.json")
    let incomplete = try CLI.run(["verify", "store"], in: work.path)
    #expect(incomplete.status == 1)
    #expect(
      incomplete.stdout
        == "store: checkpoint-web_default-2026-12-03T10:00:00Z: incomplete: no checkpoint-manifest.json\n"
        + "store: 1 problem\n")
  }

  /// `list` finds the kubelet's pod checkpoints (directories and tars) beside container archives: a row per
  /// container, with its pod.
  @Test func listFindsPodCheckpoints() throws {
    let work = try TemporaryDirectory()
    let directory = work.file("checkpoints")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    _ = try Self.copy("crio-pod", to: work, as: "checkpoints/checkpoint-web_default-2026-12-01T10:00:00Z")
    _ = try Self.copy("containerd-pod", to: work, as: "db")
    try Tool.run(
      "tar", ["cf", "checkpoints/checkpoint-db_prod-2026-12-02T11:30:00Z.tar", "-C", "db", "."], in: work.path)
    try FileManager.default.copyItem(
      atPath: Fixtures.path("busybox-in-pod.tar"),
      toPath: directory + "/checkpoint-fx-pod_default-fx-podctr-2026-11-29T12:21:24Z.tar")
    let list = try CLI.run(["list", "checkpoints"], in: work.path)
    #expect(list.status == 0, "\(list.stderr)")
    #expect(list.stderr == "")
    #expect(list.stdout == (try Fixtures.golden("pods/list.txt", actual: list.stdout)))
    let json = try CLI.run(["list", "checkpoints", "--format", "json"], in: work.path)
    let rows = try #require(JSONValue(parsing: json.stdoutBytes).member("checkpoints")?.arrayValue)
    #expect(rows.map { $0.member("container")?.stringValue } == ["fx-podctr", "fx-sleep", "fx-ptree", "db"])
  }

  /// A containerd-layout pod built here from all three containerd fixtures (names derived from the IDs as the
  /// runtime derives them), as a directory and as a zstd tar: every container read, searched and verified.
  @Test func containerdPodOfSeveralImages() throws {
    let work = try TemporaryDirectory()
    let pod = work.file("pod")
    try FileManager.default.createDirectory(atPath: pod, withIntermediateDirectories: true)
    var containers: [[String: Any]] = []
    for (number, fixture) in ContainerdImageTests.fixtures.enumerated() {
      let id = String(repeating: "\(number + 1)", count: 64)
      var hasher = SHA256Hasher()
      hasher.update(Array(id.utf8))
      let archive = "container-\(hasher.finalize()).tar"
      try FileManager.default.copyItem(atPath: Fixtures.path("containerd/" + fixture), toPath: pod + "/" + archive)
      containers.append([
        "name": "c\(number + 1)", "id": id, "archive": archive, "config": ["metadata": ["name": "c\(number + 1)"]],
        "status": ["id": id, "state": 1, "created_at": 1_796_210_405_123_456_789],
      ])
    }
    let manifest: [String: Any] = [
      "version": 2, "sandboxId": String(repeating: "a", count: 64), "containers": containers,
    ]
    try JSONSerialization.data(withJSONObject: manifest).write(
      to: URL(fileURLWithPath: pod + "/checkpoint-manifest.json"))
    try Data(#"{"metadata":{"name":"three","uid":"u","namespace":"ns"}}"#.utf8).write(
      to: URL(fileURLWithPath: pod + "/pod-config.json"))
    try Tool.run("sh", ["-c", "tar cf - -C pod . | zstd -q -o pod.tar.zst"], in: work.path)
    for input in ["pod", "pod.tar.zst"] {
      let show = try CLI.run(["show", input], in: work.path)
      #expect(show.status == 0, "\(input): \(show.stderr)")
      let rows = show.stdout.split(separator: "\n").filter { $0.hasPrefix("c") && $0.contains("localhost/fx-busybox") }
      #expect(rows.count == 3, "\(show.stdout)")
      for (number, row) in zip(1..., rows) {
        #expect(row.hasPrefix("c\(number) ") && row.contains("   \(String(repeating: "\(number)", count: 12))   "))
      }
      let search = try CLI.run(["memparse", input, "--search", ContainerdImageTests.needle], in: work.path)
      #expect(search.status == 0, "\(input): \(search.stderr)")
      #expect(search.stdout.components(separatedBy: ContainerdImageTests.needle + "\n").count - 1 >= 3)
      let verify = try CLI.run(["verify", input], in: work.path)
      #expect(verify.status == 0, "\(input): \(verify.stdout)")
    }
  }

  /// `diff` of two pod checkpoints compares the containers they share, down to the pages, and names the others.
  @Test func diffComparesContainersByName() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work, as: "a")
    let b = try Self.copy("crio-pod", to: work, as: "b")
    // One byte of fx-ptree's pages changed (as in the shared crio-pod-tampered fixture), fx-sleep removed.
    let archive = b + "/containers/0945ffb250912d1c0f728dcf51f467143c524fba2d66a2ae01517ae46967f041.tar"
    var bytes = try Files.read(archive)
    #expect(bytes[130339] == 0x0d)
    bytes[130339] = 0x0c
    try Files.write(bytes, to: archive)
    try Self.editManifest(b) { manifest in
      manifest["containers"] = Array((manifest["containers"] as! [[String: Any]]).dropFirst())
    }
    let json = try CLI.run(["diff", "a", "b", "--pages", "--format", "json"], in: work.path)
    #expect(json.status == 0, "\(json.stderr)")
    let document = try JSONValue(parsing: json.stdoutBytes)
    #expect(document.member("removed")?.arrayValue == [.string("fx-sleep")])
    #expect(document.member("added")?.arrayValue == [])
    let containers = try #require(document.member("containers")?.arrayValue)
    #expect(containers.map { $0.member("name")?.stringValue } == ["fx-ptree"])
    let pages = try #require(containers[0].member("diff")?.member("page_changes")?.arrayValue)
    // Pages are compared whole: the one page holding the byte, in pid 1's mapping of /bin/busybox.
    #expect(pages.compactMap { $0.member("changed_bytes")?.integerValue }.reduce(0, +) == 4096)
    let ranges = pages.flatMap { $0.member("ranges")?.arrayValue ?? [] }
    #expect(ranges.map { $0.member("start")?.stringValue } == ["0x401000"])
    #expect(pages.first { $0.member("ranges")?.arrayValue?.isEmpty == false }?.member("pid")?.integerValue == 1)
    let tree = try CLI.run(["diff", "a", "b", "--pages"], in: work.path)
    #expect(tree.status == 0)
    #expect(tree.stdout.hasPrefix("Pod checkpoint diff: web (default)\n"))
    #expect(tree.stdout.contains("├── Removed containers\n│   └── fx-sleep\n"))
    #expect(tree.stdout.contains("Container fx-ptree\n\n╔"))
    let mixed = try CLI.run(["diff", "a", Fixtures.path("busybox-sleep.tar")], in: work.path)
    #expect(mixed.status == 1)
    #expect(mixed.stderr.hasPrefix("Error: a is a pod checkpoint and "))
  }

  /// `decode POD:CONTAINER/member` decodes a container's image; `decode POD` lists every container's images.
  @Test func decodeReachesEachContainersImages() throws {
    let work = try TemporaryDirectory()
    _ = try Self.copy("crio-pod", to: work)
    try Tool.run("tar", ["cf", "pod.tar", "-C", "crio-pod", "."], in: work.path)
    let alone = try CLI.run(["decode", Fixtures.path("busybox-ptree.tar") + ":checkpoint/pstree.img"])
    #expect(alone.status == 0)
    for pod in ["crio-pod", "pod.tar"] {
      let image = try CLI.run(["decode", pod + ":fx-ptree/checkpoint/pstree.img"], in: work.path)
      #expect(image.status == 0, "\(image.stderr)")
      #expect(image.stdout == alone.stdout)
      let listing = try CLI.run(["decode", pod], in: work.path)
      #expect(listing.status == 0, "\(listing.stderr)")
      #expect(listing.stdout.contains("\nfx-sleep/pstree.img "))
      #expect(listing.stdout.contains("\nfx-ptree/mm-20.img "))
    }
    let missing = try CLI.run(["decode", "crio-pod:web/checkpoint/pstree.img"], in: work.path)
    #expect(missing.stderr == "Error: crio-pod: no container named \"web\" (the pod has \"fx-sleep\", \"fx-ptree\")\n")
  }

  /// A hostile pod archive: a member leading out, or a manifest that is a link, is refused by name.
  @Test func hostilePodArchivesAreRefused() throws {
    let work = try TemporaryDirectory()
    let pod = try Self.copy("crio-pod", to: work)
    let manifest = try Files.read(pod + "/checkpoint-manifest.json")
    let config = try Files.read(pod + "/pod-config.json")
    try TestArchive.write(
      [.file("pod-config.json", config), .file("../evil", [1]), .file("checkpoint-manifest.json", manifest)],
      to: work.file("evil.tar"))
    let evil = try CLI.run(["show", "evil.tar"], in: work.path)
    #expect(evil.status == 1)
    #expect(evil.stderr == "Error: archive evil.tar has an unsafe member \"../evil\": path leads out of the target\n")
    try TestArchive.write(
      [.file("pod-config.json", config), .symlink("checkpoint-manifest.json", to: "pod-config.json")],
      to: work.file("link.tar"))
    let link = try CLI.run(["inspect", "link.tar"], in: work.path)
    #expect(link.status == 1)
    #expect(link.stderr == "Error: link.tar/checkpoint-manifest.json is not a regular file\n")
    try TestArchive.write([.file("pod-config.json", config)], to: work.file("incomplete.tar"))
    let incomplete = try CLI.run(["show", "incomplete.tar"], in: work.path)
    #expect(
      incomplete.stderr == "Error: incomplete.tar is an incomplete pod checkpoint (no checkpoint-manifest.json)\n")
  }

  /// Each broken or hostile pod checkpoint: one `Error:` line naming it, exit 1, nothing followed or written.
  @Test func brokenAndHostilePodsAreRefusedByName() throws {
    let work = try TemporaryDirectory()
    func expectError(_ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws
    {
      let result = try CLI.run(arguments, in: work.path)
      #expect(result.status == 1, sourceLocation: sourceLocation)
      #expect(result.stdout == "", sourceLocation: sourceLocation)
      #expect(result.stderr == "Error: \(message)\n", sourceLocation: sourceLocation)
    }
    let pod = try Self.copy("crio-pod", to: work, as: "pod")
    try FileManager.default.removeItem(atPath: pod + "/checkpoint-manifest.json")
    try expectError(["show", "pod"], "pod is an incomplete pod checkpoint (no checkpoint-manifest.json)")
    try expectError(["inspect", "pod"], "pod is an incomplete pod checkpoint (no checkpoint-manifest.json)")

    let hostile = try Self.copy("crio-pod", to: work, as: "hostile")
    try Self.editContainer(hostile, 0) { $0["archive"] = "../../etc/passwd" }
    try expectError(
      ["show", "hostile"],
      "hostile/checkpoint-manifest.json: container \"fx-sleep\": archive \"../../etc/passwd\" is not the name its id "
        + "gives \"containers/9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511.tar\"")

    let twice = try Self.copy("crio-pod", to: work, as: "twice")
    try Self.editManifest(twice) { manifest in
      let containers = manifest["containers"] as! [[String: Any]]
      manifest["containers"] = [containers[0], containers[1], containers[0]]
    }
    try expectError(["inspect", "twice"], "twice/checkpoint-manifest.json: lists container \"fx-sleep\" twice")

    let badName = try Self.copy("crio-pod", to: work, as: "bad-name")
    try Self.editContainer(badName, 1) { $0["name"] = "../up" }
    try expectError(
      ["coredump", "bad-name"], "bad-name/checkpoint-manifest.json: container name \"../up\" is not a valid name")
    #expect(!Path.exists(work.file("up")))

    let crowded = try Self.copy("crio-pod", to: work, as: "crowded")
    try Self.editManifest(crowded) { manifest in
      let entry = (manifest["containers"] as! [[String: Any]])[0]
      manifest["containers"] = Array(repeating: entry, count: 1025)
    }
    try expectError(["show", "crowded"], "crowded/checkpoint-manifest.json: lists 1025 containers (at most 1024)")

    // CRI-O limits its manifest to 4 MiB (containerd's may be 16 MiB).
    let big = try Self.copy("crio-pod", to: work, as: "big")
    let padded = try Files.read(big + "/checkpoint-manifest.json") + [UInt8](repeating: 0x20, count: 5 << 20)
    try Files.write(padded, to: big + "/checkpoint-manifest.json")
    try expectError(["show", "big"], "member checkpoint-manifest.json of big is larger than 4.0 MiB")

    let future = try Self.copy("crio-pod", to: work, as: "future")
    try Self.editManifest(future) { $0["version"] = 3 }
    try expectError(
      ["show", "future"],
      "future/checkpoint-manifest.json: unknown pod checkpoint layout (version 3, runtime \"cri-o\")")

    // Metadata must be a regular file: a link is refused (never followed), a FIFO without blocking.
    let linked = try Self.copy("crio-pod", to: work, as: "linked")
    try FileManager.default.removeItem(atPath: linked + "/pod-config.json")
    symlink("/etc/passwd", linked + "/pod-config.json")
    try expectError(["show", "linked"], "linked/pod-config.json is not a regular file")
    let fifo = try Self.copy("crio-pod", to: work, as: "fifo")
    try FileManager.default.removeItem(atPath: fifo + "/checkpoint-manifest.json")
    #expect(mkfifo(fifo + "/checkpoint-manifest.json", 0o600) == 0)
    try expectError(["inspect", "fifo"], "fifo/checkpoint-manifest.json is not a regular file")
    // A container archive replaced by a link to another checkpoint is not followed.
    let archive = try Self.copy("crio-pod", to: work, as: "archive-link")
    let member = "containers/9e95cbf5605a064cd1bb53ed5e17523981b39642518a4e6213e39771e2872511.tar"
    try FileManager.default.removeItem(atPath: archive + "/" + member)
    symlink(Fixtures.path("busybox-needle.tar"), archive + "/" + member)
    // The pod itself is shown; its container is not.
    let linkedArchive = try CLI.run(["inspect", "archive-link", "--container", "fx-sleep"], in: work.path)
    #expect(linkedArchive.status == 1)
    #expect(linkedArchive.stdout.hasPrefix("\nDisplaying pod checkpoint tree view from archive-link\n"))
    #expect(!linkedArchive.stdout.contains("Displaying container"))
    #expect(linkedArchive.stderr == "Error: archive-link/\(member) is not a regular file\n")

    try expectError(
      ["inspect", Fixtures.path("busybox-sleep.tar"), "--container", "x"],
      "\(Fixtures.path("busybox-sleep.tar")) is a container checkpoint; --container selects a container of a pod checkpoint"
    )
    _ = try Self.copy("crio-pod", to: work, as: "named")
    try expectError(
      ["inspect", "named", "--container", "nope"],
      "named: no container named \"nope\" (the pod has \"fx-sleep\", \"fx-ptree\")")
  }
}
