import Archive
import CheckpointKit
import Foundation
import Rendering
import TestSupport
import Testing
import Verify

/// `verify` in process, on the real fixtures and on tampered copies of them made here.
@Suite struct VerifyTests {
  static let sleep = Fixtures.path("busybox-sleep.tar")
  static let page = 4096

  /// The report of one checkpoint.
  static func verify(_ path: String) -> VerifyReport {
    Verifier.verify([path])[0]
  }

  /// The problems as `member: what` (`what` alone for the checkpoint as a whole).
  static func problems(_ report: VerifyReport) -> [String] {
    report.problems.map { [$0.member, $0.what].compactMap { $0 }.joined(separator: ": ") }
  }

  @Test(arguments: [
    "busybox-sleep.tar", "busybox-sleep.tar.gz", "busybox-sleep.tar.zst", "busybox-sleep-default-compress.tar",
    "busybox-memhog64.tar.zst", "busybox-shm.tar.gz", "debian-net.tar.gz", "busybox-ptree.tar", "busybox-tty.tar",
    "busybox-needle.tar", "busybox-in-pod.tar", "busybox-diff-1.tar", "raw/piggie",
    "podman-checkpoint-image.oci.tar", "kubelet-store",
  ])
  func everyFixtureIsIntact(_ name: String) {
    let report = Self.verify(Fixtures.path(name))
    #expect(report.isIntact, "\(report.problems)")
    #expect(report.images > 0 && report.pages > 0 && report.members > report.images)
  }

  @Test func kindsAreNamed() {
    #expect(Self.verify(Fixtures.kubeletStore).kind == "kubelet-store")
    #expect(Self.verify(Self.sleep).kind == "container")
  }

  @Test func aDirectoryCountsWhatItsArchiveCounts() throws {
    let directory = try TemporaryDirectory()
    _ = try Tool.run("tar", ["-xf", Self.sleep, "-C", directory.path])
    let unpacked = Self.verify(directory.path)
    let archived = Self.verify(Self.sleep)
    #expect(unpacked.isIntact, "\(unpacked.problems)")
    #expect(unpacked.members == archived.members)
    #expect(unpacked.images == archived.images)
    #expect(unpacked.pages == archived.pages)
  }

  /// Two processes' pagemaps naming one pages file (the second dump's pages went over the first's).
  @Test func aPagesFileTwoPagemapsNameIsAProblem() {
    #expect(
      Self.problems(Self.verify(Fixtures.path("busybox-diff-2.tar"))) == [
        "checkpoint/pages-2.img: named by 2 pagemaps (pagemap-7.img, pagemap-8.img): each needs a pages file of its own"
      ])
  }

  @Test func aTruncatedZstdArchiveIsNamedAfterWhatWasVerified() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("cut.tar.zst")
    let bytes = try Files.read(Fixtures.path("busybox-memhog64.tar.zst"))
    try Files.write(Array(bytes.prefix(bytes.count / 2)), to: path)
    let report = Self.verify(path)
    #expect(!report.isIntact)
    #expect(report.problems.count == 1)
    #expect(report.problems.first?.what.contains(path) == true, "\(report.problems)")
    #expect(report.images > 0)
  }

  @Test func aFlippedByteInAnImageIsADecodeError() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("flipped.tar")
    try TestArchive.copy(Self.sleep, to: path) { name, bytes in
      var bytes = bytes
      if name == "checkpoint/core-1.img" { bytes[9] ^= 0xFF }
      return .file(name, bytes)
    }
    let report = Self.verify(path)
    #expect(report.problems.map(\.member) == ["checkpoint/core-1.img"])
    #expect(report.problems.first?.what.hasPrefix("cannot decode: ") == true, "\(report.problems)")
  }

  @Test func pagesCutShortByOnePageOrOneExtra() throws {
    let directory = try TemporaryDirectory()
    for (name, change, problem) in [
      (
        "short.tar.zst", { (bytes: [UInt8]) in Array(bytes.dropLast(Self.page)) },
        "holds 14 pages, pagemap-1.img places 15: 1 short"
      ),
      (
        "extra.tar.gz", { (bytes: [UInt8]) in bytes + [UInt8](repeating: 7, count: Self.page) },
        "holds 16 pages, pagemap-1.img places 15: 1 extra"
      ),
    ] {
      let path = directory.file(name)
      try TestArchive.copy(Self.sleep, to: path, compression: name.hasSuffix("zst") ? .zstd : .gzip) { member, bytes in
        .file(member, member == "checkpoint/pages-1.img" ? change(bytes) : bytes)
      }
      #expect(Self.problems(Self.verify(path)) == ["checkpoint/pages-1.img: " + problem])
    }
  }

  @Test func aMissingMMImage() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("no-mm.tar")
    try TestArchive.copy(Self.sleep, to: path) { name, bytes in name == "checkpoint/mm-1.img" ? nil : .file(name, bytes)
    }
    #expect(Self.problems(Self.verify(path)) == ["checkpoint/mm-1.img: missing (process 1 in pstree.img)"])
  }

  @Test func metadataThatIsNotJSONOrNotARegularFile() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("metadata.tar")
    try TestArchive.copy(Self.sleep, to: path, extra: [.symlink("spec.dump", to: "/etc/passwd")]) { name, bytes in
      switch name {
      case "config.dump": return .file(name, Array(#"{"id": "#.utf8))
      case "spec.dump": return nil
      default: return .file(name, bytes)
      }
    }
    #expect(
      Self.problems(Self.verify(path)) == [
        "config.dump: not valid JSON: unexpected end of JSON input", "spec.dump: not a regular file",
      ])
  }

  @Test func everyProblemOfOneCheckpointIsReported() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("several.tar.zst")
    try TestArchive.copy(Self.sleep, to: path, compression: .zstd) { name, bytes in
      switch name {
      case "config.dump": return .file(name, Array("not json".utf8))
      case "checkpoint/mm-1.img": return nil
      case "checkpoint/pages-1.img": return .file(name, Array(bytes.dropLast(2 * Self.page)))
      default: return .file(name, bytes)
      }
    }
    #expect(
      Self.problems(Self.verify(path)) == [
        "config.dump: not valid JSON: invalid character 'o' in literal null (expecting 'u')",
        "checkpoint/pages-1.img: holds 13 pages, pagemap-1.img places 15: 2 short",
        "checkpoint/mm-1.img: missing (process 1 in pstree.img)",
      ])
  }

  @Test func anOCIBlobWhoseDigestDiffers() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("image.oci.tar")
    let config = "blobs/sha256/2f39c5bb1d7cb1de389338d8549805f9c07685899abb6b906821bc9a93eed53d"
    try TestArchive.copy(Fixtures.path("podman-checkpoint-image.oci.tar"), to: path) { name, bytes in
      var bytes = bytes
      if name == config { bytes[2] ^= 0x01 }
      return .file(name, bytes)
    }
    let report = Self.verify(path)
    #expect(report.problems.count == 1, "\(report.problems)")
    #expect(report.problems.first?.member == nil)
    #expect(report.problems.first?.what.contains("sha256:2f39c5bb") == true, "\(report.problems)")
    #expect(report.images == 17)
  }

  @Test func aStoreNamesItsArchiveInEachProblem() throws {
    let directory = try TemporaryDirectory()
    let store = directory.file("store")
    try Files.copyTree(Fixtures.kubeletStore, to: store)
    let archive = store + "/5b1f8a0c3d2e.tar"
    try TestArchive.copy(Fixtures.path("kubelet-store/5b1f8a0c3d2e.tar"), to: archive) { name, bytes in
      name == "checkpoint/mm-1.img" ? nil : .file(name, bytes)
    }
    let report = Self.verify(store)
    #expect(report.problems.map(\.checkpoint) == [archive])
    #expect(report.problems.map(\.member) == ["checkpoint/mm-1.img"])
  }
}
