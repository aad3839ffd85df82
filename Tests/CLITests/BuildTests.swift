import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// Reference tools the image tests check our output with (installed by `make test`).
enum ImageTools {
  /// True when `name` is on `PATH`.
  static func has(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
      access("\($0)/\(name)", X_OK) == 0
    }
  }

  static let skopeo = has("skopeo")

  /// A JSON object from a tool's output.
  static func object(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  /// The annotations of a manifest or an index.
  static func annotations(_ text: String) throws -> [String: String] {
    try #require(try object(text)["annotations"] as? [String: String])
  }
}

@Suite(.enabled(if: ImageTools.skopeo, "skopeo is not installed (make test installs it)"))
struct BuildTests {
  static let sleep = Fixtures.path("busybox-sleep.tar")

  @Test func ociArchiveCarriesEveryEnginesAnnotationsOnManifestAndIndex() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.run(["build", Self.sleep, "oci-archive:\(directory.file("img.tar")):v1"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    let digest = try #require(lines.last)
    #expect(digest.hasPrefix("sha256:") && digest.count == 71)
    let added = lines.dropLast()
    #expect(added.allSatisfy { $0.hasPrefix("Added annotation: ") })
    #expect(Array(added) == added.sorted())
    #expect(added.contains("Added annotation: org.criu.checkpoint.container.name=fx-sleep"))
    #expect(added.contains("Added annotation: org.criu.checkpoint.engine.name=Podman"))
    #expect(added.contains("Added annotation: org.criu.checkpoint.pod.name="))
    #expect(Files.permissions(directory.file("img.tar")) == 0o600)

    // skopeo reads the index the tag points at; its digest is the one printed.
    let raw = try Tool.run("skopeo", ["inspect", "--raw", "oci-archive:\(directory.file("img.tar")):v1"])
    let index = try ImageTools.annotations(raw)
    let blob = try Tool.run("tar", ["xOf", directory.file("img.tar"), "blobs/sha256/" + digest.dropFirst(7)])
    #expect(blob == raw)
    for key in [
      "org.criu.checkpoint.container.name", "io.kubernetes.cri-o.annotations.checkpoint.name",
      "io.podman.annotations.checkpoint.name",
    ] {
      #expect(index[key] == "fx-sleep", "\(key)")
    }
    #expect(index["io.podman.annotations.checkpoint.runtime.name"] == "runc")
    #expect(index["org.criu.checkpoint.host.arch"] == "amd64")
    #expect(index["io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName"] == "localhost/fx-busybox:1.35")
    // config.dump's `RawImageName`, found as Go's `encoding/json` finds the field `rawImageName`.
    #expect(index["org.criu.checkpoint.rawImageName"] == "localhost/fx-busybox:1.35")

    // skopeo copies it (checking every digest) and the manifest carries the same annotations.
    try Tool.run(
      "skopeo", ["copy", "-q", "oci-archive:\(directory.file("img.tar")):v1", "dir:\(directory.file("copy"))"])
    let manifestText = String(decoding: try Files.read(directory.file("copy/manifest.json")), as: UTF8.self)
    #expect(try ImageTools.annotations(manifestText) == index)
    let manifest = try ImageTools.object(manifestText)
    let layers = try #require(manifest["layers"] as? [[String: Any]])
    #expect(layers.count == 1)
    #expect(layers.first?["mediaType"] as? String == "application/vnd.oci.image.layer.v1.tar+gzip")
    let layerDigest = try #require((layers.first?["digest"] as? String)?.dropFirst(7))
    let members = try Tool.run("tar", ["tzf", directory.file("copy/\(layerDigest)")])
    for member in ["config.dump", "spec.dump", "checkpoint/pstree.img", "checkpoint/pages-1.img"] {
      #expect(members.split(separator: "\n").contains { $0 == member }, "\(member)")
    }
    let config = try ImageTools.object(
      try Tool.run("skopeo", ["inspect", "--config", "oci-archive:\(directory.file("img.tar")):v1"]))
    #expect(config["architecture"] as? String == "amd64")
    #expect(config["os"] as? String == "linux")
    #expect(config["created"] as? String == "2026-11-29T12:19:12Z")
  }

  @Test func sameCheckpointAndFlagsGiveTheSameDigest() throws {
    let directory = try TemporaryDirectory()
    func build(_ name: String, _ extra: [String] = []) throws -> String {
      let result = try CLI.run(["build", Self.sleep, "oci-archive:\(directory.file(name))"] + extra)
      #expect(result.status == 0, "\(result.stderr)")
      return String(result.stdout.split(separator: "\n").last ?? "")
    }
    let first = try build("a.tar")
    #expect(try build("b.tar") == first)
    // The same archive compressed makes the same layer.
    try Tool.run("zstd", ["-q", Self.sleep, "-o", directory.file("input.tar.zst")])
    let fromZstd = try CLI.run(["build", directory.file("input.tar.zst"), "oci-archive:\(directory.file("c.tar"))"])
    #expect(fromZstd.stdout.split(separator: "\n").last.map(String.init) == first)
    let zstd = try build("d.tar", ["--compression", "zstd"])
    #expect(zstd != first)
    try Tool.run("skopeo", ["copy", "-q", "oci-archive:\(directory.file("d.tar"))", "dir:\(directory.file("d"))"])
    let manifest = String(decoding: try Files.read(directory.file("d/manifest.json")), as: UTF8.self)
    #expect(manifest.contains("application/vnd.oci.image.layer.v1.tar+zstd"))
  }

  @Test func ociLayoutIsPrivateAndHoldsSeveralTags() throws {
    let directory = try TemporaryDirectory()
    let layout = directory.file("layout")
    let one = try CLI.run(["build", Self.sleep, "oci:\(layout):v1", "--annotation", "team=blue"])
    #expect(one.status == 0, "\(one.stderr)")
    #expect(one.stdout.contains("Added annotation: team=blue\n"))
    let two = try CLI.run([
      "build", Self.sleep, "oci:\(layout):v2", "--compression", "none", "--annotation",
      "org.criu.checkpoint.pod.name=override",
    ])
    #expect(two.status == 0, "\(two.stderr)")
    #expect(Files.permissions(layout) == 0o700)
    #expect(Files.permissions(layout + "/index.json") == 0o600)
    for name in try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256") {
      #expect(Files.permissions(layout + "/blobs/sha256/" + name) == 0o600)
      #expect(!name.hasPrefix("."), "temporary file \(name) left behind")
    }
    let first = try ImageTools.annotations(try Tool.run("skopeo", ["inspect", "--raw", "oci:\(layout):v1"]))
    #expect(first["team"] == "blue")
    let second = try ImageTools.annotations(try Tool.run("skopeo", ["inspect", "--raw", "oci:\(layout):v2"]))
    #expect(second["org.criu.checkpoint.pod.name"] == "override")
    #expect(second["team"] == nil)
  }

  @Test func aCheckpointDirectoryBuildsLikeItsArchive() throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.file("ckpt"), withIntermediateDirectories: false)
    try Tool.run("tar", ["xf", Self.sleep, "-C", directory.file("ckpt")])
    let result = try CLI.run(["build", directory.file("ckpt"), "oci-archive:\(directory.file("img.tar"))"])
    #expect(result.status == 0, "\(result.stderr)")
    let show = try CLI.run(["show", directory.file("img.tar")])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("fx-sleep"))
  }

  @Test func checkpointImagesAreReadByEveryCommand() throws {
    let directory = try TemporaryDirectory()
    #expect(try CLI.run(["build", Self.sleep, "oci-archive:\(directory.file("img.tar")):v1"]).status == 0)
    #expect(
      try CLI.run(["build", Self.sleep, "oci:\(directory.file("layout")):v1", "--compression", "none"]).status == 0)
    let expected = try CLI.run(["show", Self.sleep]).stdout.split(separator: "\n").dropFirst(2)
    for input in [
      directory.file("img.tar"), "oci-archive:\(directory.file("img.tar")):v1", "oci:\(directory.file("layout")):v1",
      directory.file("layout"),
    ] {
      let show = try CLI.run(["show", input])
      #expect(show.status == 0, "\(input): \(show.stderr)")
      #expect(show.stdout.split(separator: "\n").dropFirst(2) == expected, "\(input)")
      let memparse = try CLI.run(["memparse", input])
      #expect(memparse.status == 0, "\(input): \(memparse.stderr)")
      #expect(memparse.stdout.contains("sleep"))
      let tree = try CLI.run(["inspect", "--ps-tree", input])
      #expect(tree.status == 0, "\(input): \(tree.stderr)")
      #expect(tree.stdout.contains("[1]  sleep"))
    }
    let dump = try CLI.run(["memparse", "--pid", "1", "oci:\(directory.file("layout")):v1"])
    let reference = try CLI.run(["memparse", "--pid", "1", Self.sleep])
    #expect(dump.status == 0)
    #expect(dump.stdout.split(separator: "\n").dropFirst(2) == reference.stdout.split(separator: "\n").dropFirst(2))
  }

  @Test func compressedImagesAndImageMembersAreRead() throws {
    let directory = try TemporaryDirectory()
    let scratch = try TemporaryDirectory()
    let archive = directory.file("img.tar")
    #expect(try CLI.run(["build", Self.sleep, "oci-archive:\(archive):v1", "--compression", "none"]).status == 0)
    #expect(try CLI.run(["build", Self.sleep, "oci:\(directory.file("layout")):v1"]).status == 0)
    try Tool.run("gzip", ["-k", archive])
    try Tool.run("zstd", ["-q", archive, "-o", archive + ".zst"])
    // A compressed OCI archive is decompressed once into a private scratch file, removed when done.
    let environment = ["TMPDIR": scratch.path]
    let expected = try CLI.run(["show", Self.sleep]).stdout.split(separator: "\n").dropFirst(2)
    let reference = try CLI.run(["memparse", "--pid", "1", Self.sleep]).stdout.split(separator: "\n").dropFirst(2)
    for input in [archive + ".gz", archive + ".zst", "oci-archive:\(archive).gz:v1"] {
      let show = try CLI.run(["show", input], environment: environment)
      #expect(show.status == 0, "\(input): \(show.stderr)")
      #expect(show.stdout.split(separator: "\n").dropFirst(2) == expected, "\(input)")
      let memparse = try CLI.run(["memparse", "--pid", "1", input], environment: environment)
      #expect(memparse.stdout.split(separator: "\n").dropFirst(2) == reference, "\(input): \(memparse.stderr)")
    }
    // decode lists an image reference, or decodes one of its images (a member name ending in .img).
    let listing = try CLI.run(["decode", Self.sleep]).stdout
    let pstree = try CLI.run(["decode", Self.sleep + ":checkpoint/pstree.img"]).stdout
    #expect(pstree.contains("\"magic\": \"PSTREE\""))
    for reference in ["oci-archive:\(archive)", "oci-archive:\(archive):v1", "oci:\(directory.file("layout")):v1"] {
      let list = try CLI.run(["decode", reference], environment: environment)
      #expect(list.status == 0 && list.stdout == listing, "\(reference): \(list.stderr)")
      let image = try CLI.run(["decode", reference + ":checkpoint/pstree.img"], environment: environment)
      #expect(image.status == 0 && image.stdout == pstree, "\(reference): \(image.stderr)")
    }
    let member = try CLI.run(["decode", archive + ".zst:checkpoint/pstree.img"], environment: environment)
    #expect(member.status == 0 && member.stdout == pstree, "\(member.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
  }

  /// An uncompressed OCI archive whose layer is a sparse member (GNU `tar -S` of a layout with holes): the other
  /// members are read in place, the sparse one from the scratch copy, each from where it is.
  @Test func aSparseMemberOfAnOCIArchiveIsRead() throws {
    let directory = try TemporaryDirectory()
    let layout = directory.file("layout")
    #expect(try CLI.run(["build", Self.sleep, "oci:\(layout):v1", "--compression", "none"]).status == 0)
    let blobs = layout + "/blobs/sha256"
    for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
      try Tool.run("cp", ["--sparse=always", blobs + "/" + name, blobs + "/" + name + ".sparse"])
      try Tool.run("mv", [blobs + "/" + name + ".sparse", blobs + "/" + name])
    }
    let archive = directory.file("image.tar")
    try Tool.run("tar", ["-S", "-cf", archive, "-C", layout, "oci-layout", "index.json", "blobs"])
    // libarchive gives a sparse member no offset in the file: that is the case under test.
    let reader = try ArchiveReader(path: archive)
    var sparse = 0
    while let entry = try reader.next() {
      if entry.kind == .regular && entry.dataOffset == nil { sparse += 1 }
    }
    #expect(sparse > 0)
    let expected = try CLI.run(["show", Self.sleep]).stdout.split(separator: "\n").dropFirst(2)
    let show = try CLI.run(["show", archive])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.split(separator: "\n").dropFirst(2) == expected)
    let reference = try CLI.run(["memparse", "--pid", "1", Self.sleep]).stdout.split(separator: "\n").dropFirst(2)
    #expect(try CLI.run(["memparse", "--pid", "1", archive]).stdout.split(separator: "\n").dropFirst(2) == reference)
  }

  /// A member time beyond the year 9999 (a hostile archive) leaves the image without a creation time; it does
  /// not trap.
  @Test func anImpossibleCheckpointTimeIsLeftOut() throws {
    let directory = try TemporaryDirectory()
    let archive = directory.file("far.tar")
    let file = try FileDescriptor(path: archive, flags: O_WRONLY | O_CREAT | O_TRUNC)
    let writer = try ArchiveWriter(descriptor: file, compression: .none)
    for (entry, bytes) in try TestArchive.read(Self.sleep) {
      var data = bytes
      var time = entry.modificationTime
      if entry.path == "config.dump" {
        var config = try ImageTools.object(String(decoding: bytes, as: UTF8.self))
        config["checkpointedTime"] = nil
        data = [UInt8](try JSONSerialization.data(withJSONObject: config))
      }
      if entry.path == "checkpoint/inventory.img" { time = 67_768_000_000_000_000 }
      if entry.kind == .regular {
        try writer.addFile(named: entry.path, bytes: data, permissions: 0o600, modificationTime: time)
      } else {
        try writer.writeHeader(entry)
      }
    }
    try writer.finish()
    try file.close()
    let result = try CLI.run(["build", archive, "oci-archive:\(directory.file("image.tar")):v1"])
    #expect(result.status == 0, "\(result.stderr)")
    let config = try ImageTools.object(
      try Tool.run("skopeo", ["inspect", "--config", "--raw", "oci-archive:\(directory.file("image.tar")):v1"]))
    #expect(config["created"] == nil)
    #expect(config["architecture"] as? String == "amd64")
  }

  @Test func podmansOwnCheckpointImageIsShown() throws {
    let result = try CLI.run(["show", Fixtures.path("podman-checkpoint-image.oci.tar")])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("fx-ckimg"))
    #expect(result.stdout.contains("Podman"))
  }

  @Test(arguments: [
    (["build", "missing.tar", "oci-archive:out.tar"], "stat missing.tar: no such file or directory"),
    (["build", "CHECKPOINT", "docker://Bad/Name"], "invalid image reference"),
    (["build", "CHECKPOINT", "oci-archive:out.tar", "--annotation", "=x"], "invalid annotation"),
    (["build", "CHECKPOINT", "oci-archive:out.tar", "--compression", "xz"], "layer compression \"xz\""),
    (["build", "NOTCHECKPOINT", "oci:layout"], "config.dump: no such file or directory"),
    (["show", "oci:layout-missing:v1"], "layout-missing/index.json"),
    (["show", "oci-archive:IMAGE:nope"], "no image tagged \"nope\""),
    (["decode", "oci-archive:IMAGE:checkpoint/nope.img"], "checkpoint/nope.img"),
    (["show", "docker:IMAGE"], "transport not supported"),
  ])
  func badInputIsOneErrorLineAndLeavesNothing(_ arguments: [String], _ message: String) throws {
    let directory = try TemporaryDirectory()
    try TestArchive.write([.file("other.txt", Array("x".utf8))], to: directory.file("not.tar"))
    #expect(try CLI.run(["build", Self.sleep, "oci-archive:\(directory.file("image.tar"))"]).status == 0)
    let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
    let substituted = arguments.map {
      $0.replacingOccurrences(of: "NOTCHECKPOINT", with: directory.file("not.tar"))
        .replacingOccurrences(of: "CHECKPOINT", with: Self.sleep)
        .replacingOccurrences(of: "IMAGE", with: directory.file("image.tar"))
    }
    let result = try CLI.run(substituted, in: directory.path)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == before)
  }
}
