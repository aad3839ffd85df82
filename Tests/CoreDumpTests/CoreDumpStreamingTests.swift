import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@testable import CoreDump

/// `coredump` of compressed archives: the pages go straight into the cores while the archive is decompressed,
/// or, when the archive's order does not allow it, through the private temporary file; every way of reading a
/// checkpoint gives the same cores, byte for byte.
@Suite struct CoreDumpStreamingTests {
  /// The regular members and directories of an archive, in its order.
  static func members(_ path: String) throws -> [TestArchive.Member] {
    try TestArchive.read(path).compactMap { entry, bytes in
      switch entry.kind {
      case .directory: return .directory(entry.path)
      case .regular: return .file(entry.path, bytes)
      default: return nil
      }
    }
  }

  static func name(_ member: TestArchive.Member) -> String {
    switch member {
    case .file(let name, _), .directory(let name), .symlink(let name, _), .hardLink(let name, _),
      .special(let name, _):
      return name
    }
  }

  /// The cores written from `checkpoint` into `output` (name → bytes) and how they were written.
  static func cores(_ checkpoint: String, into output: String, pids: [UInt32] = []) throws -> (
    cores: [String: [UInt8]], trace: CoreDumpWriter.Trace
  ) {
    let trace = CoreDumpWriter.Trace()
    try CoreDumpWriter.write(
      checkpoint: checkpoint, options: .init(pids: pids, outputDirectory: output), trace: trace, note: { _ in },
      wrote: { _ in })
    var cores: [String: [UInt8]] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: output) {
      cores[name] = try Files.read(output + "/" + name)
    }
    return (cores, trace)
  }

  /// Compares two sets of cores without printing megabytes when they differ.
  static func expectSame(
    _ actual: [String: [UInt8]], _ expected: [String: [UInt8]], _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(actual.keys.sorted() == expected.keys.sorted(), "\(what)", sourceLocation: sourceLocation)
    for (name, bytes) in expected {
      guard let other = actual[name] else { continue }
      let firstDifference = zip(bytes, other).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      #expect(
        other.count == bytes.count && firstDifference == nil,
        "\(what) \(name): \(other.count) vs \(bytes.count) bytes, first difference at \(firstDifference ?? -1)",
        sourceLocation: sourceLocation)
    }
  }

  /// A plain tar of `members` and the same checkpoint unpacked into a directory, with the cores of the tar.
  static func reference(_ members: [TestArchive.Member], in work: TemporaryDirectory) throws -> (
    plain: String, cores: [String: [UInt8]]
  ) {
    let plain = work.file("plain.tar")
    try TestArchive.write(members, to: plain)
    let expected = try cores(plain, into: work.file("from-tar"))
    // An uncompressed archive is read in place: nothing to stream.
    #expect(expected.trace.started.isEmpty)
    #expect(!expected.cores.isEmpty)
    let unpacked = work.file("unpacked")
    mkdir(unpacked, 0o700)
    try SafeExtraction.extract(ArchiveReader(path: plain), into: unpacked)
    expectSame(try cores(unpacked, into: work.file("from-directory")).cores, expected.cores, "directory")
    return (plain, expected.cores)
  }

  static func pids(_ cores: [String: [UInt8]]) -> [UInt32] {
    cores.keys.compactMap { UInt32($0.dropFirst("core.".count)) }.sorted()
  }

  @Test(arguments: [
    "busybox-sleep.tar", "busybox-ptree.tar", "busybox-needle.tar", "busybox-tty.tar", "busybox-shm.tar.gz",
  ])
  func compressedArchivesStreamThePagesIntoTheCoresOfThePlainOne(_ fixture: String) throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path(fixture))
    let expected = try Self.reference(members, in: work).cores
    for compression in [ArchiveFilter.zstd, .gzip] {
      let archive = work.file("packed-\(compression)")
      try TestArchive.write(members, to: archive, compression: compression)
      let streamed = try Self.cores(archive, into: work.file("from-\(compression)"))
      Self.expectSame(streamed.cores, expected, "\(fixture) \(compression)")
      // Every process's pages went straight into its core (no silent fallback).
      #expect(streamed.trace.started.sorted() == Self.pids(expected))
      #expect(streamed.trace.streamed.sorted() == Self.pids(expected))
      #expect(streamed.trace.restarted.isEmpty)
    }
  }

  @Test func onlyTheChosenProcessesAreStreamed() throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path("busybox-ptree.tar"))
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    try TestArchive.write(members, to: work.file("plain.tar"))
    let expected = try Self.cores(work.file("plain.tar"), into: work.file("from-tar"), pids: [9, 1])
    let streamed = try Self.cores(archive, into: work.file("from-zstd"), pids: [9, 1])
    Self.expectSame(streamed.cores, expected.cores, "--pid 9 --pid 1")
    #expect(streamed.cores.keys.sorted() == ["core.1", "core.9"])
    #expect(streamed.trace.started.sorted() == [1, 9])
    #expect(streamed.trace.streamed.sorted() == [1, 9])
  }

  @Test func pagesBeforeTheirPagemapGoThroughTheTemporaryFile() throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path("busybox-ptree.tar"))
    let expected = try Self.reference(members, in: work).cores
    // Every pages file first: when the stream reaches them, no pagemap says where their pages go.
    let pages = members.filter { CheckpointLayout.isPages(Self.name($0)) }
    let reordered = pages + members.filter { !CheckpointLayout.isPages(Self.name($0)) }
    let archive = work.file("reordered.tar.zst")
    try TestArchive.write(reordered, to: archive, compression: .zstd)
    #expect(try TestArchive.read(archive).first?.0.path == "checkpoint/pages-1.img")
    let spilled = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(spilled.cores, expected, "pages first")
    #expect(spilled.trace.started.isEmpty)
  }

  /// busybox-sleep with a `rootfs-diff.tar` holding the mapped `/bin/busybox` (bytes of the size CRIU recorded),
  /// first or last in the archive.
  static func withMappedFile(first: Bool, in work: TemporaryDirectory) throws -> [TestArchive.Member] {
    let members = try Self.members(Fixtures.path("busybox-sleep.tar"))
    let source = try CheckpointSource(path: Fixtures.path("busybox-sleep.tar"))
    let busybox = try #require(
      try source.image("files.img").messages(FileEntry.self).first { $0.hasReg && $0.reg.name == "/bin/busybox" })
    let layer = work.file("layer.tar")
    try TestArchive.write(
      [.file("bin/busybox", pseudoRandomBytes(count: Int(busybox.reg.size), seed: 3))], to: layer)
    let diff = TestArchive.Member.file(RootFSDiff.archiveName, try Files.read(layer))
    return first ? [diff] + members : members + [diff]
  }

  @Test func aMappedFileBeforeThePagesIsWrittenAroundThem() throws {
    let work = try TemporaryDirectory()
    // The file's segments are whole and hold saved pages (the data segment): the stream puts the pages in,
    // the file's bytes go around them when the core is finished.
    let members = try Self.withMappedFile(first: true, in: work)
    let expected = try Self.reference(members, in: work).cores
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let streamed = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(streamed.cores, expected, "rootfs-diff before the pages")
    #expect(streamed.trace.streamed == [1])
  }

  /// An archive that holds the pages member twice: every reader uses the last copy, so the core streamed from the
  /// first is dropped and written again from the last, as the plain tar's is.
  @Test func aSecondCopyOfThePagesWins() throws {
    let work = try TemporaryDirectory()
    var members = try Self.members(Fixtures.path("busybox-sleep.tar"))
    let pages = try #require(
      members.compactMap { member -> (String, [UInt8])? in
        if case .file(let name, let bytes) = member, name.hasPrefix("checkpoint/pages-") { return (name, bytes) }
        return nil
      }.first)
    var changed = pages.1
    for index in stride(from: 100, to: changed.count, by: 4096) { changed[index] ^= 0x5a }
    members.append(.file(pages.0, changed))
    // The plain tar is read in place: its member is the last copy (extracting it would refuse the duplicate).
    let plain = work.file("plain.tar")
    try TestArchive.write(members, to: plain)
    let expected = try Self.cores(plain, into: work.file("from-tar")).cores
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let written = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(written.cores, expected, "a second copy of the pages")
    #expect(written.trace.started == [1])
    #expect(written.trace.restarted == [1])
    // The first copy gives another core.
    members.removeLast()
    let first = try Self.cores(
      {
        let path = work.file("first.tar")
        try TestArchive.write(members, to: path)
        return path
      }(),
      into: work.file("first"))
    #expect(first.cores["core.1"] != expected["core.1"])
  }

  @Test func aLaterMemberThatMovesTheSegmentsRestartsTheCore() throws {
    let work = try TemporaryDirectory()
    // rootfs-diff.tar comes after the pages (as Podman writes it) and holds the mapped /bin/busybox: its
    // segments become whole, which moves every segment after them.
    let members = try Self.withMappedFile(first: false, in: work)
    let expected = try Self.reference(members, in: work).cores
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let restarted = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(restarted.cores, expected, "rootfs-diff after the pages")
    #expect(restarted.trace.started == [1])
    #expect(restarted.trace.restarted == [1])
    #expect(restarted.trace.streamed.isEmpty)
    // The file's bytes are in the core: its segment is whole.
    let withoutLayer = try Self.cores(Fixtures.path("busybox-sleep.tar"), into: work.file("without-layer"))
    #expect(try #require(expected["core.1"]).count > (try #require(withoutLayer.cores["core.1"]).count))
  }

  @Test func aBadImageAfterTheStreamLeavesNoFile() throws {
    let work = try TemporaryDirectory()
    // pstree.img (after the pages) names a thread without a core image: the stream starts the core, the final
    // check refuses it.
    let members = try Self.members(Fixtures.path("busybox-sleep.tar")).map { member -> TestArchive.Member in
      guard case .file("checkpoint/pstree.img", let bytes) = member else { return member }
      let image = try ImageFile(decoding: bytes)
      var entries = image.messages(PstreeEntry.self)
      entries[0].threads = [1, 77]
      return .file(
        "checkpoint/pstree.img",
        try ImageFile(kind: image.kind, entries: entries.map { ImageEntry(message: $0) }).encoded())
    }
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let output = work.file("cores")
    let trace = CoreDumpWriter.Trace()
    #expect(
      throws: CoreDumpError.badImage(
        source: archive, member: "checkpoint/core-77.img", reason: "missing: thread 77 of process 1 has no core image")
    ) {
      try CoreDumpWriter.write(
        checkpoint: archive, options: .init(outputDirectory: output), trace: trace, note: { _ in }, wrote: { _ in })
    }
    #expect(trace.started == [1])
    // No temporary core, and not the output directory this run made either.
    #expect(!FileManager.default.fileExists(atPath: output))
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["packed.tar.zst"])
  }

  @Test func aTruncatedArchiveLeavesNoFile() throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path("busybox-sleep.tar"))
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    // The end of the stream is lost: the pages are through, the archive fails after them.
    let bytes = try Files.read(archive)
    try Files.write(Array(bytes.dropLast(64)), to: archive)
    let output = work.file("cores")
    let trace = CoreDumpWriter.Trace()
    #expect(throws: (any Error).self) {
      try CoreDumpWriter.write(
        checkpoint: archive, options: .init(outputDirectory: output), trace: trace, note: { _ in }, wrote: { _ in })
    }
    #expect(trace.started == [1])
    // No temporary core, and not the output directory this run made either.
    #expect(!FileManager.default.fileExists(atPath: output))
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["packed.tar.zst"])
  }

  /// A process that is not there is found only once the archive is read, after process 1's core was started in a
  /// directory the run made: both go again.
  @Test func aMissingProcessLeavesNeitherCoreNorDirectory() throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path("busybox-sleep.tar"))
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let output = work.file("new/cores")
    let trace = CoreDumpWriter.Trace()
    #expect(throws: CoreDumpError.self) {
      try CoreDumpWriter.write(
        checkpoint: archive, options: .init(pids: [1, 99], outputDirectory: output), trace: trace, note: { _ in },
        wrote: { _ in })
    }
    #expect(trace.started == [1])
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["packed.tar.zst"])
  }

  @Test func anExistingCoreIsNotStreamedInto() throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path("busybox-sleep.tar"))
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let output = work.file("cores")
    mkdir(output, 0o700)
    try Files.write(Array("keep".utf8), to: output + "/core.1")
    let trace = CoreDumpWriter.Trace()
    #expect(throws: CoreDumpError.exists(path: output + "/core.1")) {
      try CoreDumpWriter.write(
        checkpoint: archive, options: .init(outputDirectory: output), trace: trace, note: { _ in }, wrote: { _ in })
    }
    #expect(trace.started.isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: output) == ["core.1"])
    #expect(try Files.read(output + "/core.1") == Array("keep".utf8))
  }

  @Test func pagesNoSegmentHoldsStayReadable() throws {
    let work = try TemporaryDirectory()
    // The stack (which holds argv) made PROT_NONE: its saved pages are in no segment, so the stream keeps them
    // in the private temporary file, and NT_PRPSINFO's command line is read from there.
    let arguments = Array("sleep 100000".utf8)
    var changed = false
    let members = try Self.members(Fixtures.path("busybox-sleep.tar")).map { member -> TestArchive.Member in
      guard case .file("checkpoint/mm-1.img", let bytes) = member else { return member }
      let image = try ImageFile(decoding: bytes)
      var mm = try #require(image.messages(MmEntry.self).first)
      let stack = try #require(mm.vmas.firstIndex { $0.start <= mm.mmArgStart && mm.mmArgStart < $0.end })
      mm.vmas[stack].prot = 0
      changed = true
      return .file("checkpoint/mm-1.img", try ImageFile(kind: image.kind, entries: [ImageEntry(message: mm)]).encoded())
    }
    #expect(changed)
    let expected = try Self.reference(members, in: work).cores
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let streamed = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(streamed.cores, expected, "PROT_NONE stack")
    #expect(streamed.trace.streamed == [1])
    // The command line is still in the notes.
    let core = try #require(streamed.cores["core.1"])
    #expect(core.count > arguments.count)
    #expect((0...(core.count - arguments.count)).contains { Array(core[$0..<$0 + arguments.count]) == arguments })
  }

  /// Podman's pre-dump layout: `checkpoint/` pages go straight into the core, PE_PARENT pages come from
  /// `pre-checkpoint/` (after them in the archive) and are written when the core is finished.
  @Test func parentPagesAreAddedAfterTheStream() throws {
    let work = try TemporaryDirectory()
    let kinds: (String) throws -> ImageKind = { try #require(ImageKind.named($0)) }
    try CRIUFixtures.writeProcess(
      in: work.file("pre"), entries: [(0x1000, 4)], pages: [UInt8](repeating: 0xAB, count: 4096), kinds: kinds)
    try CRIUFixtures.writeProcess(
      in: work.file("dump"), entries: [(0x1000, 1), (0x2000, 4)], pages: [UInt8](repeating: 0xCD, count: 4096),
      kinds: kinds)
    var members: [TestArchive.Member] = [.directory("checkpoint/"), .directory("pre-checkpoint/")]
    for (folder, prefix) in [("dump", "checkpoint/"), ("pre", "pre-checkpoint/")] {
      // A real thread core (registers), as CRIU wrote it for the first process of raw/piggie.
      members.append(.file(prefix + "core-1.img", try Files.read(Fixtures.path("raw/piggie/core-1.img"))))
      for name in ["mm-1.img", "pagemap-1.img", "pages-1.img", "pstree.img"] {
        members.append(.file(prefix + name, try Files.read(work.file(folder + "/" + name))))
      }
    }
    try TestArchive.write(members, to: work.file("plain.tar"))
    let expected = try Self.cores(work.file("plain.tar"), into: work.file("from-tar")).cores
    let core = try #require(expected["core.1"])
    // One PT_LOAD of 0x1000-0x3000 right after the headers: the parent's page, then this dump's.
    #expect(core.count > 0x3000)
    #expect(core[0x1000..<0x2000].allSatisfy { $0 == 0xAB })
    #expect(core[0x2000..<0x3000].allSatisfy { $0 == 0xCD })
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let streamed = try Self.cores(archive, into: work.file("from-zstd"))
    Self.expectSame(streamed.cores, expected, "pre-dump")
    #expect(streamed.trace.streamed == [1])
  }

  /// The streamed pages file reads back as it was, at any offset and across runs, holes and unplaced pages.
  @Test(arguments: ["busybox-ptree.tar", "busybox-shm.tar.gz"])
  func streamedPagesReadBackAsTheyWere(_ fixture: String) throws {
    let work = try TemporaryDirectory()
    let members = try Self.members(Fixtures.path(fixture))
    let archive = work.file("packed.tar.zst")
    try TestArchive.write(members, to: archive, compression: .zstd)
    let trace = CoreDumpWriter.Trace()
    let streamed = StreamedCores(options: .init(outputDirectory: work.file("cores")), pageSize: 4096, trace: trace)
    let loader = try CheckpointSource.Loader(path: archive, selection: CoreDumpWriter.selection)
    while let member = try loader.nextStreamedMember() {
      if let core = streamed.receiver(member: member.name, source: try loader.sourceSoFar) {
        try loader.take(with: core)
      }
    }
    let source = try loader.finish()
    #expect(!trace.started.isEmpty)
    var compared = 0
    for case .file(let name, let bytes) in members where CheckpointLayout.isPages(name) {
      let pages = try source.randomAccess(name)
      #expect(try source.size(of: name) == Int64(bytes.count))
      for (offset, count) in [(0, bytes.count), (bytes.count / 3 + 17, 9000), (max(0, bytes.count - 5), 100)] {
        var buffer = [UInt8](repeating: 0xEE, count: count)
        let n = try buffer.withUnsafeMutableBytes { try pages.read(into: $0, at: Int64(offset)) }
        let end = min(bytes.count, offset + count)
        #expect(n == end - offset, "\(name) at \(offset)")
        #expect(Array(buffer[0..<n]) == Array(bytes[offset..<end]), "\(name) at \(offset)")
      }
      compared += 1
    }
    #expect(compared > 0)
  }
}
