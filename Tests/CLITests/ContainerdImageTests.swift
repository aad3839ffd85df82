import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// containerd's native checkpoint images (`ctr containers checkpoint`, `ctr tasks checkpoint`, exported with
/// `ctr images export`), read as checkpoints by every command: as files, `oci-archive:` and `oci:`.
@Suite struct ContainerdImageTests {
  /// The three fixtures with CRIU data, and the processes each holds (pid, command).
  static let fixtures = [
    "containerd-native-checkpoint.oci.tar", "containerd-native-checkpoint-image.oci.tar",
    "containerd-task-checkpoint.oci.tar",
  ]
  static let pids: [String: [UInt32]] = [
    "containerd-native-checkpoint.oci.tar": [1, 9, 14], "containerd-native-checkpoint-image.oci.tar": [1, 7, 12],
    "containerd-task-checkpoint.oci.tar": [1, 7, 13],
  ]
  static let notask = "containerd/containerd-native-checkpoint-notask.oci.tar"
  static let needle = "CTRFX_NEEDLE_7f3a"

  /// The golden file of `command` on `fixture` (`show/containerd-native-checkpoint.txt`).
  static func golden(_ command: String, _ fixture: String, _ suffix: String = ".txt", actual: String) throws -> String {
    try Fixtures.golden("\(command)/\(fixture.replacing(".oci.tar", with: ""))\(suffix)", actual: actual)
  }

  /// `fixture` as `oci-archive:`, and unpacked as `oci:` (the same image, read where it is).
  static func references(_ fixture: String, in directory: TemporaryDirectory) throws -> [String] {
    let layout = directory.file("layout")
    mkdir(layout, 0o700)
    _ = try Tool.run("tar", ["-xf", Fixtures.path("containerd/" + fixture), "-C", layout])
    return ["oci-archive:" + Fixtures.path("containerd/" + fixture), "oci:" + layout]
  }

  /// `verify`: every blob's size, the small ones' digests, the CRIU images and pages; the image without CRIU data
  /// is one problem; a changed byte in a small blob is a digest problem.
  @Test func verifyChecksTheImagesBlobsAndCheckpoint() throws {
    let intact = try CLI.run(["verify"] + Self.fixtures.map { "containerd/" + $0 }, in: Fixtures.root)
    #expect(intact.status == 0, "\(intact.stdout)")
    #expect(intact.stdout.components(separatedBy: ": intact (").count == 4)
    let notask = try CLI.run(["verify", Self.notask], in: Fixtures.root)
    #expect(notask.status == 1)
    #expect(notask.stdout.hasSuffix("\(Self.notask): 1 problem\n"))
    #expect(notask.stdout.contains("holds no CRIU data"))
    // The options blob (42 bytes, `28 01` at its end) changed in a copy.
    let directory = try TemporaryDirectory()
    var bytes = try Files.read(Fixtures.path("containerd/" + Self.fixtures[0]))
    let marker: [UInt8] = Array("containerd.runc.v1.CheckpointOptions".utf8) + [0x12, 0x02, 0x28, 0x01]
    let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
    bytes[at + marker.count - 1] = 0x00
    try Files.write(bytes, to: directory.file("changed.oci.tar"))
    let changed = try CLI.run(["verify", directory.file("changed.oci.tar")])
    #expect(changed.status == 1)
    #expect(
      changed.stdout.contains("7d3151453569712d136c98a8cce017f677b6a39c5114c6f570c0ea2f5a4bce68"), "\(changed.stdout)")
    // A byte of the CRIU images tar changed (in a pages file, which only its digest covers): one problem.
    var images = try Files.read(Fixtures.path("containerd/" + Self.fixtures[0]))
    images[45156] ^= 0xff
    try Files.write(images, to: directory.file("images.oci.tar"))
    let pages = try CLI.run(["verify", directory.file("images.oci.tar")])
    #expect(pages.status == 1)
    #expect(
      pages.stdout.hasSuffix(
        "blob sha256:db7f0d8243329bd3c94b5175ffd70777805c48f8a0ed6e1822fa4f4cccaa1917 has digest "
          + "sha256:977b36eb7f1d8e64c7e4d6d8f64989efd30e4c6f62a7fbc73c9e2ccaeff70c89\n\(directory.file("images.oci.tar")): 1 problem\n"
      ),
      "\(pages.stdout)")
  }

  @Test(arguments: fixtures)
  func showReadsTheImageAsAContainerdCheckpoint(_ fixture: String) throws {
    let result = try CLI.run(["show", "containerd/" + fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    #expect(result.stdout == (try Self.golden("show", fixture, actual: result.stdout)))
    let directory = try TemporaryDirectory()
    for reference in try Self.references(fixture, in: directory) {
      let other = try CLI.run(["show", reference])
      #expect(other.status == 0, "\(other.stderr)")
      #expect(
        other.stdout.replacing(reference, with: "containerd/" + fixture) == result.stdout, "\(reference)")
    }
  }

  @Test(arguments: fixtures)
  func inspectAllShowsWhatTheImageHolds(_ fixture: String) throws {
    let text = try CLI.run(["inspect", "--all", "containerd/" + fixture], in: Fixtures.root)
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout == (try Self.golden("inspect", fixture, actual: text.stdout)))
    // No stats-dump and no dump.log in a containerd image: those views are left out with a note, as for any
    // checkpoint without them.
    #expect(text.stderr == (try Self.golden("inspect", fixture, ".stderr.txt", actual: text.stderr)))
    #expect(text.stdout.contains("/tmp/needle.txt"))
    let json = try CLI.run(["inspect", "--all", "--format", "json", "containerd/" + fixture], in: Fixtures.root)
    #expect(json.status == 0, "\(json.stderr)")
    #expect(json.stdout == (try Self.golden("inspect", fixture, ".json", actual: json.stdout)))
  }

  @Test(arguments: fixtures)
  func memparseListsTheProcessesAndFindsTheNeedle(_ fixture: String) throws {
    let table = try CLI.run(["memparse", "containerd/" + fixture], in: Fixtures.root)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stdout == (try Self.golden("memparse", fixture, actual: table.stdout)))
    let search = try CLI.run(["memparse", "--search", Self.needle, "containerd/" + fixture], in: Fixtures.root)
    #expect(search.status == 0, "\(search.stderr)")
    #expect(search.stdout == (try Self.golden("memparse", fixture, "-search.txt", actual: search.stdout)))
    #expect(search.stdout.contains(Self.needle))
    let secret = try CLI.run(
      ["memparse", "--search", "CTRFX_ENV_SECRET_91", "containerd/" + fixture], in: Fixtures.root)
    for pid in try #require(Self.pids[fixture]) {
      #expect(secret.stdout.contains("\n\(pid) "), "pid \(pid): \(secret.stdout)")
    }
  }

  @Test(arguments: fixtures)
  func gdbLoadsTheCoresAndReadsTheNeedles(_ fixture: String) throws {
    let search = try CLI.run(
      ["memparse", "--search", "CTRFX_ENV_SECRET_91", "--format", "json", "containerd/" + fixture], in: Fixtures.root)
    let hits = try #require(try JSONValue(parsing: search.stdoutBytes).objectValue?["hits"]?.arrayValue)
    #expect(!hits.isEmpty)
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-o", output.path, "containerd/" + fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try CoreDumpTests.corePids(output) == Self.pids[fixture])
    for hit in hits {
      let pid = try #require(hit.objectValue?["pid"]?.integerValue)
      let address = try #require(hit.objectValue?["address"]?.stringValue)
      let text = try CoreDumpTests.gdb(output.file("core.\(pid)"), ["info threads", "x/s \(address)"])
      for warning in CoreDumpTests.forbidden { #expect(!text.contains(warning), "\(fixture) core.\(pid): \(text)") }
      #expect(text.contains("* 1    LWP \(pid) "), "\(text)")
      #expect(text.contains("CTRFX_ENV_SECRET_91"), "\(fixture) core.\(pid) \(address): \(text)")
    }
  }

  @Test(arguments: fixtures)
  func decodeReadsAMemberOfTheCRIUImages(_ fixture: String) throws {
    let result = try CLI.run(["decode", "containerd/\(fixture):checkpoint/pstree.img"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let entries = try #require(try JSONValue(parsing: result.stdoutBytes).objectValue?["entries"]?.arrayValue)
    #expect(entries.compactMap { $0.objectValue?["pid"]?.integerValue }.map(UInt32.init) == Self.pids[fixture])
    let listing = try CLI.run(["decode", "containerd/" + fixture], in: Fixtures.root)
    #expect(listing.status == 0, "\(listing.stderr)")
    #expect(listing.stdout.contains("pstree.img"))
    #expect(listing.stdout.contains("pages-1.img"))
  }

  /// containerd 1.6 writes an index without criu.tar and config on a second checkpoint of an unchanged
  /// container: one clean error, whatever the command and however the image is named.
  @Test func anImageWithoutCRIUDataIsOneCleanError() throws {
    let directory = try TemporaryDirectory()
    let file = Fixtures.path(Self.notask)
    for path in [file] + (try Self.references("containerd-native-checkpoint-notask.oci.tar", in: directory)) {
      for command in [["show"], ["inspect", "--all"], ["memparse"], ["coredump", "-o", directory.file("cores")]] {
        let result = try CLI.run(command + [path])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(
          result.stderr
            == "Error: \(path): the containerd checkpoint image holds no CRIU data (no criu.tar and no config blob: "
            + "containerd 1.6 leaves them out when an unchanged container is checkpointed again)\n",
          "\(command)")
      }
    }
  }
}

extension ContainerdImageTests {
  /// Blobs of an `oci:` layout that are not what the checkpoint index says: a spec blob with another digest, a
  /// CRIU images tar of another size. Each is one `Error:` line naming the blob.
  @Test func blobsAreCheckedAgainstTheirDescriptors() throws {
    let fixture = Self.fixtures[0]
    let cases = [
      ("ce0843746c9381df111efabc65be25f091ebd87c841f8dea9cc5677a3818b73d", "has digest sha256:"),
      (
        "db7f0d8243329bd3c94b5175ffd70777805c48f8a0ed6e1822fa4f4cccaa1917",
        "has 248831 bytes, its descriptor says 248832"
      ),
    ]
    for (digest, problem) in cases {
      let directory = try TemporaryDirectory()
      let layout = try #require(try Self.references(fixture, in: directory).last)
      let blob = directory.file("layout/blobs/sha256/" + digest)
      var bytes = try Files.read(blob)
      if digest.hasPrefix("ce08") { bytes[100] ^= 1 } else { bytes.removeLast() }
      chmod(blob, 0o600)
      try Files.write(bytes, to: blob)
      let result = try CLI.run(["memparse", layout])
      #expect(result.status == 1)
      #expect(
        result.stderr.hasPrefix("Error: \(directory.file("layout")): blob sha256:\(digest) \(problem)"),
        "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
  }
}
