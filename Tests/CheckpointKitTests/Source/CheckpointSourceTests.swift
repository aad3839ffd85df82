import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct CheckpointSourceTests {
  @Test func opensEveryLayout() throws {
    let raw = try CheckpointSource(path: Fixtures.path("raw/piggie"))
    #expect(raw.kind == .imageDirectory)
    #expect(raw.imagePrefix == "")
    let plain = try CheckpointSource(path: Fixtures.path("busybox-sleep.tar"))
    #expect(plain.kind == .archive(.none))
    #expect(plain.imagePrefix == "checkpoint/")
    let zstd = try CheckpointSource(path: Fixtures.path("busybox-sleep.tar.zst"))
    #expect(zstd.kind == .archive(.zstd))
    // An unpacked container checkpoint directory.
    let directory = try TemporaryDirectory()
    try SafeExtraction.extract(try ArchiveReader(path: Fixtures.path("busybox-sleep.tar")), into: directory.path)
    let unpacked = try CheckpointSource(path: directory.path)
    #expect(unpacked.kind == .containerDirectory)
    for source in [plain, zstd, unpacked] {
      #expect(try source.bytes(of: "config.dump") == (try plain.bytes(of: "config.dump")))
      #expect(try source.image("pstree.img").kind.name == "PSTREE")
    }
    #expect(Set(unpacked.memberNames).isSuperset(of: plain.memberNames.filter { !$0.hasPrefix("artifacts") }))
  }

  /// A directory's member replaced after it was listed (by a link, a FIFO) is refused when it is opened, for reads
  /// at offsets as for whole reads, and never blocks.
  @Test(arguments: ["symlink", "fifo"])
  func aDirectoryMemberReplacedAfterListingIsRefused(_ replacement: String) throws {
    let directory = try TemporaryDirectory()
    try SafeExtraction.extract(try ArchiveReader(path: Fixtures.path("busybox-sleep.tar")), into: directory.path)
    let source = try CheckpointSource(path: directory.path)
    let member = "checkpoint/pages-1.img"
    #expect(unlink(directory.file(member)) == 0)
    if replacement == "symlink" {
      #expect(symlink(directory.file("config.dump"), directory.file(member)) == 0)
    } else {
      #expect(mkfifo(directory.file(member), 0o600) == 0)
    }
    let refused = CheckpointError.notRegularFile(source: directory.path, member: member)
    #expect(throws: refused) { _ = try source.randomAccess(member) }
    #expect(throws: refused) { _ = try source.bytes(of: member) }
  }

  @Test func uncompressedMembersAreReadInPlace() throws {
    let source = try CheckpointSource(path: Fixtures.path("busybox-needle.tar"), selection: .listing)
    // Even with nothing selected, an uncompressed archive serves any member from its offset.
    let pages = try source.randomAccess("checkpoint/pages-1.img")
    var head = [UInt8](repeating: 0, count: 64)
    let n = try head.withUnsafeMutableBytes { try pages.read(into: $0, at: 4096) }
    #expect(n == 64)
    let streamed = try TestArchive.read(Fixtures.path("busybox-needle.tar")).first {
      $0.0.path == "checkpoint/pages-1.img"
    }
    #expect(Array(try #require(streamed).1[4096..<4160]) == head)
  }

  @Test func compressedPagesSpillToAnUnlinkedPrivateFile() throws {
    let source = try CheckpointSource(path: Fixtures.path("busybox-memhog64.tar.zst"))
    let pages = try source.randomAccess("checkpoint/pages-1.img")
    var byte = [UInt8](repeating: 0, count: 1)
    #expect(try byte.withUnsafeMutableBytes { try pages.read(into: $0, at: 0) } == 1)
    // The spill file is open but already gone from the directory: nothing can be left behind.
    let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
    let links = descriptors.compactMap {
      try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)
    }
    #expect(links.contains { $0.contains("checkpointctl-pages") && $0.hasSuffix("(deleted)") })
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
      .filter { $0.hasPrefix("checkpointctl-pages") }
    #expect(leftovers.isEmpty)
  }

  @Test func compressedArchivesKeepOnlyWhatWasAsked() throws {
    let source = try CheckpointSource(
      path: Fixtures.path("busybox-sleep.tar.gz"), selection: .init(memory: { $0 == "config.dump" }))
    #expect(try source.bytes(of: "config.dump").count > 100)
    #expect(throws: CheckpointError.notLoaded(source: Fixtures.path("busybox-sleep.tar.gz"), member: "spec.dump")) {
      try source.bytes(of: "spec.dump")
    }
    #expect(try source.size(of: "checkpoint/pages-1.img") > 0)
  }

  @Test func refusesWhatIsNoCheckpoint() throws {
    let directory = try TemporaryDirectory()
    try Files.write([1], to: directory.file("hello.txt"))
    #expect(throws: CheckpointError.notACheckpoint(directory.path)) { try CheckpointSource(path: directory.path) }
    #expect(throws: CheckpointError.missing(directory.file("nope"))) {
      try CheckpointSource(path: directory.file("nope"))
    }
    try Files.write([], to: directory.file("empty.tar"))
    #expect(throws: CheckpointError.emptyArchive(directory.file("empty.tar"))) {
      try CheckpointSource(path: directory.file("empty.tar"))
    }
    let source = try CheckpointSource(path: Fixtures.path("busybox-sleep.tar"))
    #expect(
      throws: CheckpointError.missingMember(source: Fixtures.path("busybox-sleep.tar"), member: "checkpoint/mm-99.img")
    ) {
      try source.image("mm-99.img")
    }
  }
}

@Suite struct ParentCheckpointTests {
  @Test func parentPagesComeFromThePreDump() throws {
    let directory = try TemporaryDirectory()
    let kinds: (String) throws -> ImageKind = { try #require(ImageKind.named($0)) }
    try CRIUFixtures.writeProcess(
      in: directory.file("pre"), entries: [(0x1000, 4)], pages: [UInt8](repeating: 0xAB, count: 4096), kinds: kinds)
    try CRIUFixtures.writeProcess(
      in: directory.file("dump"), entries: [(0x1000, 1), (0x2000, 4)], pages: [UInt8](repeating: 0xCD, count: 4096),
      kinds: kinds)
    symlink("../pre", directory.file("dump/parent"))
    let memory = try CheckpointSource(path: directory.file("dump")).memory(pid: 1)
    #expect(try memory.read(address: 0x1ffe, count: 4) == [0xAB, 0xAB, 0xCD, 0xCD])
    // Podman's layout: pre-checkpoint/ beside checkpoint/ in one (compressed) archive.
    var members: [TestArchive.Member] = []
    for (folder, prefix) in [("dump", "checkpoint/"), ("pre", "pre-checkpoint/")] {
      for name in ["pstree.img", "mm-1.img", "pagemap-1.img", "pages-1.img"] {
        members.append(.file(prefix + name, try Files.read(directory.file(folder + "/" + name))))
      }
    }
    try TestArchive.write(members, to: directory.file("podman.tar.zst"), compression: .zstd)
    let archived = try CheckpointSource(path: directory.file("podman.tar.zst")).memory(pid: 1)
    #expect(try archived.read(address: 0x1ffe, count: 4) == [0xAB, 0xAB, 0xCD, 0xCD])
    // Without the parent the same read is a clear error.
    unlink(directory.file("dump/parent"))
    #expect(throws: MemoryError.missingParent(address: 0x1ffe)) {
      try CheckpointSource(path: directory.file("dump")).memory(pid: 1).read(address: 0x1ffe, count: 4)
    }
  }
}
