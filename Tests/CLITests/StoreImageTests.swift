import CheckpointKit
import Foundation
import Glibc
import TestSupport
import Testing

/// Files of a kubelet store after an insert, compared with another store's: names, bytes and modes.
enum StoreComparison {
  static let names = ["checkpointed.pods", "5b1f8a0c3d2e.tar", "9e4d7c21a6f0.tar"]

  /// Expects `target` to hold exactly the example store's files, byte for byte, private.
  static func expectSameStore(_ target: String, as reference: String, _ what: String) throws {
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: target).sorted() == names.sorted(), "\(what)")
    for name in names {
      #expect(try Files.read(target + "/" + name) == (try Files.read(reference + "/" + name)), "\(what): \(name)")
      #expect(Files.permissions(target + "/" + name) == 0o600, "\(what): \(name)")
    }
    #expect(Files.permissions(target) == 0o700, "\(what)")
  }

  /// The members of an archive: each header's name, mode, time and owner, and the data.
  static func members(_ path: String) throws -> [(header: String, bytes: [UInt8])] {
    try TestArchive.read(path).map { entry, bytes in
      (
        "\(entry.path) \(String(entry.permissions, radix: 8)) \(entry.modificationTime) \(entry.uid):\(entry.gid)",
        bytes
      )
    }
  }
}

/// `extract -o oci-archive:…|oci:…` and `insert -i` of those images, checked with skopeo.
@Suite(.enabled(if: ImageTools.skopeo, "skopeo is not installed (make test installs it)"))
struct StoreImageFileTests {
  @Test(arguments: [("gzip", "tar+gzip"), ("none", "tar"), ("zstd", "tar+zstd")])
  func ociArchiveRoundTripEqualsTheFileRoundTrip(_ compression: String, _ mediaSuffix: String) throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    // The file round trip, as the reference.
    #expect(try CLI.run(["extract", "-t", source, "-o", directory.file("pods.tar"), "-c", "none"]).status == 0)
    #expect(try CLI.run(["insert", "-t", directory.file("by-file"), "-i", directory.file("pods.tar")]).status == 0)

    let image = "oci-archive:\(directory.file("store.oci.tar")):v1"
    let extracted = try CLI.run(["extract", "-t", source, "-o", image, "-c", compression])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(extracted.stderr == "")
    let lines = extracted.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first == "Extracting checkpoint data from \(source)/checkpointed.pods")
    let digest = try #require(lines.last)
    #expect(digest.hasPrefix("sha256:") && digest.count == 71)
    #expect(Files.permissions(directory.file("store.oci.tar")) == 0o600)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).allSatisfy { !$0.hasPrefix(".") })

    // skopeo reads the index the tag names (its digest is the one printed) and copies the image, checking digests.
    let raw = try Tool.run("skopeo", ["inspect", "--raw", image])
    #expect(
      try Tool.run("tar", ["xOf", directory.file("store.oci.tar"), "blobs/sha256/" + digest.dropFirst(7)]) == raw)
    let index = try ImageTools.annotations(raw)
    #expect(index[StoreImageAnnotation.pods] == "2")
    #expect(index[StoreImageAnnotation.archives] == "2")
    #expect(index["org.opencontainers.image.title"] == "kubelet checkpoint store")
    #expect(index["org.criu.checkpoint.container.name"] == nil)
    try Tool.run("skopeo", ["copy", "-q", image, "dir:\(directory.file("copy"))"])
    let manifestText = String(decoding: try Files.read(directory.file("copy/manifest.json")), as: UTF8.self)
    #expect(try ImageTools.annotations(manifestText) == index)
    let layers = try #require(try ImageTools.object(manifestText)["layers"] as? [[String: Any]])
    #expect(layers.count == 1)
    #expect(layers.first?["mediaType"] as? String == "application/vnd.oci.image.layer.v1.\(mediaSuffix)")
    let layerHex = try #require((layers.first?["digest"] as? String)?.dropFirst(7))
    // The layer holds what extract writes to a file: the same members, modes, times, owners and bytes.
    let layer = directory.file("copy/\(layerHex)")
    let inLayer = try StoreComparison.members(layer)
    let inFile = try StoreComparison.members(directory.file("pods.tar"))
    #expect(inLayer.map(\.header) == inFile.map(\.header))
    #expect(inLayer.map(\.bytes) == inFile.map(\.bytes))
    let listing = try Tool.run("tar", ["tvf", layer])
    #expect(listing.split(separator: "\n").count == 3, "\(listing)")
    // rootfs.diff_ids is the uncompressed tar's digest; architecture and os are the host's.
    let config = try ImageTools.object(try Tool.run("skopeo", ["inspect", "--config", image]))
    let uncompressed = try Tool.run(
      "sh",
      [
        "-c",
        "tar xOf \(directory.file("store.oci.tar")) blobs/sha256/\(layerHex) | \(decompressor(compression))"
          + " | sha256sum",
      ])
    let diffIDs = try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
    #expect(diffIDs == ["sha256:" + uncompressed.prefix(64)])
    #expect(config["architecture"] as? String == "amd64")
    #expect(config["os"] as? String == "linux")
    #expect(config["created"] as? String == index["org.opencontainers.image.created"])

    // insert reads it back (by reference and as a plain file recognised by content).
    for (input, target) in [(image, "by-reference"), (directory.file("store.oci.tar"), "by-content")] {
      let inserted = try CLI.run(["insert", "-t", directory.file(target), "-i", input])
      #expect(inserted.status == 0, "\(inserted.stderr)")
      #expect(inserted.stdout == "" && inserted.stderr == "")
      try StoreComparison.expectSameStore(directory.file(target), as: directory.file("by-file"), input)
      try StoreComparison.expectSameStore(directory.file(target), as: source, input)
    }
    // Inserting again changes nothing, as with a file.
    let before = try Files.snapshot(directory.file("by-reference"))
    let again = try CLI.run(["insert", "-t", directory.file("by-reference"), "-i", image])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(Files.same(before, try Files.snapshot(directory.file("by-reference"))))

    // The same store gives the same image, byte for byte.
    let second = try CLI.run([
      "extract", "-t", source, "-o", "oci-archive:\(directory.file("again.tar")):v1", "-c", compression,
    ])
    #expect(second.stdout.split(separator: "\n").last.map(String.init) == digest)
    #expect(try Files.read(directory.file("again.tar")) == (try Files.read(directory.file("store.oci.tar"))))
  }

  private func decompressor(_ compression: String) -> String {
    switch compression {
    case "gzip": return "gzip -dc"
    case "zstd": return "zstd -dc"
    default: return "cat"
    }
  }

  @Test func ociLayoutHoldsSeveralStoresAndIsReadByTagOrAsADirectory() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    let single = try KubeletFixtures.single(in: directory, named: "node-c", sandboxID: "s1", size: 70_000)
    let layout = directory.file("layout")
    #expect(try CLI.run(["extract", "-t", source, "-o", "oci:\(layout):a", "-c", "none"]).status == 0)
    let solo = directory.file("solo")
    #expect(try CLI.run(["extract", "-t", single, "-o", "oci:\(solo)"]).status == 0)
    #expect(try CLI.run(["extract", "-t", single, "-o", "oci:\(layout):c", "-c", "gzip"]).status == 0)
    #expect(Files.permissions(layout) == 0o700)
    #expect(Files.permissions(layout + "/index.json") == 0o600)
    for name in try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256") {
      #expect(Files.permissions(layout + "/blobs/sha256/" + name) == 0o600)
      #expect(!name.hasPrefix("."), "temporary file \(name) left behind")
    }
    let c = try ImageTools.annotations(try Tool.run("skopeo", ["inspect", "--raw", "oci:\(layout):c"]))
    #expect(c[StoreImageAnnotation.pods] == "1")
    try Tool.run("skopeo", ["copy", "-q", "oci:\(layout):a", "dir:\(directory.file("copy"))"])

    let target = directory.file("target")
    #expect(try CLI.run(["insert", "-t", target, "-i", "oci:\(layout):a"]).status == 0)
    try StoreComparison.expectSameStore(target, as: source, "oci:layout:a")
    // An untagged layout with one image is read as a plain directory; its pod joins the others.
    let inserted = try CLI.run(["insert", "-t", target, "-i", solo])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    let metadata = try CheckpointMetadata(json: try Files.read(target + "/checkpointed.pods"), source: "t")
    #expect(metadata.pods.map(\.sandboxID) == ["5b1f8a0c3d2e", "9e4d7c21a6f0", "s1"])
    #expect(try Files.read(target + "/s1.tar") == (try Files.read(single + "/s1.tar")))
    // The layout holds two images: without a tag, which one is meant is an error.
    let ambiguous = try CLI.run(["insert", "-t", target, "-i", layout])
    #expect(ambiguous.status == 1)
    #expect(ambiguous.stderr.contains("no tag given"), "\(ambiguous.stderr)")
  }

  /// A layer whose bytes are not what its digest says changes nothing, even when it reads as a valid store.
  @Test func aLayerThatDoesNotMatchItsDigestChangesNothing() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.single(in: directory, named: "node-a", sandboxID: "big", size: 3 << 20)
    let layout = directory.file("layout")
    #expect(try CLI.run(["extract", "-t", source, "-o", "oci:\(layout):v1", "-c", "none"]).status == 0)
    let blobs = layout + "/blobs/sha256"
    let layerName = try #require(
      try FileManager.default.contentsOfDirectory(atPath: blobs).first { Files.fileSize(blobs + "/" + $0) > 1 << 20 })
    // Flip one byte in the middle of the pod archive's data: the tar still reads as a store.
    var bytes = try Files.read(blobs + "/" + layerName)
    bytes[bytes.count / 2] ^= 0xff
    try Files.write(bytes, to: blobs + "/" + layerName)

    let target = try KubeletFixtures.example(in: directory, named: "target")
    let before = try Files.snapshot(target)
    let result = try CLI.run(["insert", "-t", target, "-i", "oci:\(layout):v1"])
    #expect(result.status == 1)
    #expect(
      result.stderr.hasPrefix("Error: oci:\(layout):v1: blob sha256:\(layerName) has digest sha256:"),
      "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(Files.same(before, try Files.snapshot(target)))
    // A new target is not even created.
    let fresh = try CLI.run(["insert", "-t", directory.file("fresh"), "-i", "oci:\(layout):v1"])
    #expect(fresh.status == 1)
    #expect(!FileManager.default.fileExists(atPath: directory.file("fresh")))
  }

  /// extract reads under a shared lock and insert writes under the exclusive one, as with files: both wait for
  /// an insert that holds the store.
  @Test func extractAndInsertWaitForTheStoreLock() throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    let held = open(source, O_RDONLY | O_DIRECTORY)
    try #require(held >= 0 && flock(held, LOCK_EX) == 0)
    let extract = try CLI.start(["extract", "-t", source, "-o", "oci:\(directory.file("layout")):v1"])
    usleep(500_000)
    #expect(extract.process.isRunning)
    #expect(!FileManager.default.fileExists(atPath: directory.file("layout/index.json")))
    flock(held, LOCK_UN)
    let extracted = extract.wait()
    #expect(extracted.status == 0, "\(extracted.stderr)")

    let target = directory.file("target")
    mkdir(target, 0o700)
    let targetLock = open(target, O_RDONLY | O_DIRECTORY)
    try #require(targetLock >= 0 && flock(targetLock, LOCK_EX) == 0)
    let insert = try CLI.start(["insert", "-t", target, "-i", "oci:\(directory.file("layout")):v1"])
    usleep(500_000)
    #expect(insert.process.isRunning)
    #expect(try FileManager.default.contentsOfDirectory(atPath: target).filter { !$0.hasPrefix(".") } == [])
    close(targetLock)
    let inserted = insert.wait()
    #expect(inserted.status == 0, "\(inserted.stderr)")
    try StoreComparison.expectSameStore(target, as: source, "after the lock")
    close(held)
  }

  /// On a terminal (`script`), building a large image shows the share of the input read (the layer is written
  /// straight into the archive as it is made).
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux's script is missing"))
  func buildProgressOnATerminal() throws {
    let work = try TemporaryDirectory()
    try Tool.run("cp", [Fixtures.path("busybox-sleep.tar"), work.file("big.tar")])
    try Files.write(pseudoRandomBytes(count: 70 << 20), to: work.file("rootfs-diff.tar"))
    try Tool.run("tar", ["rf", work.file("big.tar"), "-C", work.path, "rootfs-diff.tar"])
    let command =
      "\(CLI.binary) build \(work.file("big.tar")) oci-archive:\(work.file("image.tar")) --compression none"
    try Tool.run("script", ["-qec", command, work.file("typescript")])
    let screen = String(decoding: try Files.read(work.file("typescript")), as: UTF8.self)
    #expect(screen.contains(#/Building: 70\.\d MiB of 70\.\d MiB \(100%\)/#), "\(screen.suffix(300))")
    #expect(!screen.contains("Writing:"), "\(screen.suffix(300))")
    let piped = try CLI.run(["build", work.file("big.tar"), "oci-archive:\(work.file("again.tar"))"])
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(piped.stderr == "")
  }

  @Test func aContainerCheckpointImageIsNotAStore() throws {
    let directory = try TemporaryDirectory()
    let target = try KubeletFixtures.example(in: directory, named: "target")
    let before = try Files.snapshot(target)
    let image = Fixtures.path("podman-checkpoint-image.oci.tar")
    #expect(
      try CLI.run(["build", Fixtures.path("busybox-sleep.tar"), "oci:\(directory.file("built")):v1"]).status == 0)
    for input in [image, "oci-archive:\(image)", "oci:\(directory.file("built")):v1"] {
      let result = try CLI.run(["insert", "-t", target, "-i", input])
      #expect(result.status == 1)
      #expect(
        result.stderr
          == "Error: \(input) is not an image of a kubelet checkpoint store: its layer has no checkpointed.pods\n")
      #expect(Files.same(before, try Files.snapshot(target)), "\(input)")
    }
  }

  @Test(arguments: [
    (
      ["extract", "-o", "localhost/stores/node1:v1"],
      "\"localhost/stores/node1:v1\": a bare image name (Podman's local store) cannot hold a kubelet checkpoint "
        + "store; use docker://HOST[:PORT]/REPO[:TAG], oci-archive:PATH[:TAG] or oci:DIR[:TAG]"
    ),
    (["extract", "-o", "containers-storage:stores"], "\"containers-storage:stores\": this transport cannot hold"),
    (["extract", "-o", "docker://Bad_Host/UPPER:v1"], "invalid image reference \"docker://Bad_Host/UPPER:v1\""),
    (["extract", "-o", "docker://127.0.0.1:5000/ok:bad:tag"], "invalid image reference"),
    (["extract", "-o", "oci-archive:image.tar", "-c", "xz"], "layer compression \"xz\" is not supported"),
    (["extract", "-o", "oci:layout", "-c", "lz4"], "lz4"),
    (["insert", "-i", "localhost/stores/node1:v1"], "a bare image name (Podman's local store) cannot hold"),
    (["insert", "-i", "docker://127.0.0.1:5000/UPPER"], "invalid image reference"),
    (["insert", "-i", "oci:missing-layout:v1"], "missing-layout/index.json"),
    (["insert", "-i", "oci-archive:missing.tar"], "missing.tar"),
  ])
  func badReferencesAreOneErrorLineAndLeaveNothing(_ arguments: [String], _ message: String) throws {
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "store")
    let before = try Files.snapshot(directory.path)
    let result = try CLI.run(arguments + ["-t", source], in: directory.path)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(Files.same(before, try Files.snapshot(directory.path)))
  }
}

/// `extract -o docker://…` and `insert -i docker://…` against a real `docker-registry`, checked with skopeo.
@Suite(
  .serialized,
  .enabled(if: TestRegistry.available, "docker-registry or skopeo is not installed (make test installs them)"))
struct StoreImageRegistryTests {
  @Test func registryRoundTripEqualsTheFileRoundTrip() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    #expect(try CLI.run(["extract", "-t", source, "-o", directory.file("pods.tar.zst")]).status == 0)
    #expect(try CLI.run(["insert", "-t", directory.file("by-file"), "-i", directory.file("pods.tar.zst")]).status == 0)

    let image = "docker://\(registry.host)/stores/node1:v1"
    let pushed = try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false"])
    #expect(pushed.status == 0, "\(pushed.stderr)")
    #expect(pushed.stderr == "")
    let digest = try #require(pushed.stdout.split(separator: "\n").last.map(String.init))
    // skopeo sees a valid image: the tag names the index (the digest printed), with our annotations.
    let raw = try Tool.run("skopeo", ["inspect", "--tls-verify=false", "--raw", image])
    #expect("sha256:" + (try Tool.run("sh", ["-c", "printf %s \"$0\" | sha256sum", raw])).prefix(64) == digest)
    let annotations = try ImageTools.annotations(raw)
    #expect(annotations[StoreImageAnnotation.pods] == "2")
    #expect(annotations["org.opencontainers.image.title"] == "kubelet checkpoint store")
    try Tool.run("skopeo", ["copy", "-q", "--src-tls-verify=false", image, "dir:\(directory.file("copy"))"])
    let manifest = String(decoding: try Files.read(directory.file("copy/manifest.json")), as: UTF8.self)
    #expect(manifest.contains("application/vnd.oci.image.layer.v1.tar+zstd"))
    #expect(try ImageTools.annotations(manifest) == annotations)

    let target = directory.file("by-registry")
    let inserted = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"])
    #expect(inserted.status == 0, "\(inserted.stderr)")
    #expect(inserted.stdout == "" && inserted.stderr == "")
    try StoreComparison.expectSameStore(target, as: directory.file("by-file"), "registry")
    try StoreComparison.expectSameStore(target, as: source, "registry")
    // Twice: already present, nothing changes.
    let before = try Files.snapshot(target)
    let again = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(Files.same(before, try Files.snapshot(target)))
    // By digest too.
    let byDigest = try CLI.run([
      "insert", "-t", directory.file("by-digest"), "-i", "docker://\(registry.host)/stores/node1@\(digest)",
      "--tls-verify=false",
    ])
    #expect(byDigest.status == 0, "\(byDigest.stderr)")
    try StoreComparison.expectSameStore(directory.file("by-digest"), as: source, "by digest")

    // The same store pushed again is the same image, and every blob is found present (no upload).
    let posts = registry.log.components(separatedBy: "\"POST /v2/").count
    let repeated = try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false"])
    #expect(repeated.stdout.split(separator: "\n").last.map(String.init) == digest)
    #expect(registry.log.components(separatedBy: "\"POST /v2/").count == posts)
  }

  @Test func downRegistryIsOneErrorLineAndLeavesNothing() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    try FileManager.default.createDirectory(atPath: directory.file("tmp"), withIntermediateDirectories: false)
    registry.stop()
    let image = "docker://\(registry.host)/stores/node1:v1"
    let environment = ["TMPDIR": directory.file("tmp")]
    let pushed = try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false"], environment: environment)
    #expect(pushed.status == 1)
    #expect(pushed.stderr == "Error: registry \(registry.host): GET /v2/: connection refused\n")
    let inserted = try CLI.run(
      ["insert", "-t", directory.file("target"), "-i", image, "--tls-verify=false"], environment: environment)
    #expect(inserted.status == 1)
    #expect(inserted.stderr == "Error: registry \(registry.host): GET /v2/: connection refused\n")
    #expect(!FileManager.default.fileExists(atPath: directory.file("target")))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("tmp")) == [])
    // Up again on the same storage: nothing was tagged.
    try registry.start()
    let inspect = try Tool.runMerged("skopeo", ["inspect", "--tls-verify=false", "--raw", image])
    #expect(inspect.status != 0)
    #expect(inspect.output.contains("manifest unknown"), "\(inspect.output)")
  }

  @Test func htpasswdRegistryNeedsCredentials() throws {
    let registry = try TestRegistry(user: ("alice", "s3cret"))
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    let image = "docker://\(registry.host)/private/node1:v1"
    let home = ["HOME": registry.directory.path]
    let anonymous = try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false"], environment: home)
    #expect(anonymous.status == 1)
    #expect(
      anonymous.stderr.contains("Error: registry \(registry.host): GET /v2/: authentication required"),
      "\(anonymous.stderr)")
    let wrong = try CLI.run(
      ["extract", "-t", source, "-o", image, "--tls-verify=false", "--creds", "alice:wrong"], environment: home)
    #expect(wrong.status == 1)
    #expect(wrong.stderr.contains("credentials were refused"), "\(wrong.stderr)")
    let right = try CLI.run(
      ["extract", "-t", source, "-o", image, "--tls-verify=false", "--creds", "alice:s3cret"], environment: home)
    #expect(right.status == 0, "\(right.stderr)")

    let target = directory.file("target")
    let refused = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"], environment: home)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("authentication required"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: target))
    // An auth file as skopeo and Podman write it.
    let auth = #"{"auths":{"\#(registry.host)":{"auth":"\#(Data("alice:s3cret".utf8).base64EncodedString())"}}}"#
    try Files.write(Array(auth.utf8), to: directory.file("auth.json"))
    let inserted = try CLI.run(
      ["insert", "-t", target, "-i", image, "--tls-verify=false", "--authfile", directory.file("auth.json")],
      environment: home)
    #expect(inserted.status == 0, "\(inserted.stderr)")
    try StoreComparison.expectSameStore(target, as: source, "authenticated")
  }

  @Test func corruptedBlobInTheRegistryChangesNothing() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.single(in: directory, named: "node-a", sandboxID: "big", size: 3 << 20)
    let image = "docker://\(registry.host)/stores/big:v1"
    #expect(try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false", "-c", "none"]).status == 0)
    // distribution serves blobs from its storage as they are: flip a byte of the layer there.
    let storage = registry.directory.file("storage/docker/registry/v2/blobs/sha256")
    let layer = try #require(
      FileManager.default.subpaths(atPath: storage)?.first {
        $0.hasSuffix("/data") && Files.fileSize(storage + "/" + $0) > 1 << 20
      })
    var bytes = try Files.read(storage + "/" + layer)
    bytes[bytes.count / 2] ^= 0xff
    try Files.write(bytes, to: storage + "/" + layer)

    let target = try KubeletFixtures.example(in: directory, named: "target")
    let before = try Files.snapshot(target)
    let result = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: registry \(registry.host): blob sha256:"), "\(result.stderr)")
    #expect(result.stderr.contains(" has digest sha256:"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(Files.same(before, try Files.snapshot(target)))
  }

  /// A tampered layer whose `checkpointed.pods` no longer parses reports the digest, the real cause.
  @Test func tamperedMetadataIsReportedAsTheDigestMismatch() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let source = try KubeletFixtures.example(in: directory, named: "node-a")
    let image = "docker://\(registry.host)/stores/small:v1"
    let extracted = try CLI.run(["extract", "-t", source, "-o", image, "--tls-verify=false", "-c", "none"])
    #expect(extracted.status == 0, "\(extracted.stderr) \(registry.log.suffix(2000))")
    let storage = registry.directory.file("storage/docker/registry/v2/blobs/sha256")
    let pods = Array("checkpointed.pods".utf8)
    var changed = 0
    for path in FileManager.default.subpaths(atPath: storage) ?? [] where path.hasSuffix("/data") {
      var bytes = try Files.read(storage + "/" + path)
      // The member's data starts one header block after its name; make its first character no JSON.
      guard let at = (0..<max(0, bytes.count - pods.count)).first(where: { Array(bytes[$0..<$0 + pods.count]) == pods })
      else { continue }
      let data = at + 512
      guard data < bytes.count, bytes[data] == UInt8(ascii: "{") else { continue }
      bytes[data] = UInt8(ascii: "#")
      try Files.write(bytes, to: storage + "/" + path)
      changed += 1
    }
    #expect(changed == 1)
    let target = try KubeletFixtures.example(in: directory, named: "target")
    let before = try Files.snapshot(target)
    let result = try CLI.run(["insert", "-t", target, "-i", image, "--tls-verify=false"])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: registry \(registry.host): blob sha256:"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(Files.same(before, try Files.snapshot(target)))
  }

  @Test func aContainerCheckpointImageInTheRegistryIsNotAStore() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let image = "docker://\(registry.host)/checkpoints/sleep:v1"
    #expect(try CLI.run(["build", Fixtures.path("busybox-sleep.tar"), image, "--tls-verify=false"]).status == 0)
    let result = try CLI.run(["insert", "-t", directory.file("target"), "-i", image, "--tls-verify=false"])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: \(image) is not an image of a kubelet checkpoint store: its layer has no checkpointed.pods\n")
    #expect(!FileManager.default.fileExists(atPath: directory.file("target")))
  }

  /// On a terminal (`script`), a large extract to a registry shows its progress; through a pipe it does not.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux's script is missing"))
  func progressOnATerminal() throws {
    let registry = try TestRegistry()
    let directory = try TemporaryDirectory()
    let store = try KubeletFixtures.single(in: directory, named: "big", sandboxID: "big", size: 72 << 20)
    let image = "docker://\(registry.host)/stores/big:v1"
    let command = "\(CLI.binary) extract -t \(store) -o \(image) -c none --tls-verify=false"
    try Tool.run("script", ["-qec", command, directory.file("typescript")])
    let screen = String(decoding: try Files.read(directory.file("typescript")), as: UTF8.self)
    #expect(screen.contains("Extracting: 72.0 MiB of 72.0 MiB (100%)"), "\(screen.suffix(300))")
    #expect(screen.contains("Pushing: 72.0 MiB of 72.0 MiB (100%)"), "\(screen.suffix(300))")
    let piped = try CLI.run(["extract", "-t", store, "-o", image, "-c", "none", "--tls-verify=false"])
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(piped.stderr == "")
  }
}

extension Files {
  /// The size of a file, 0 when it is missing.
  static func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : 0
  }
}
