import Archive
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct ArchiveReaderTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var file: String
    var compression: ArchiveFilter
    var testDescription: String { file }
  }

  @Test(arguments: [
    Case(file: "busybox-sleep.tar", compression: .none),
    Case(file: "busybox-sleep.tar.gz", compression: .gzip),
    Case(file: "busybox-sleep.tar.zst", compression: .zstd),
    // Podman writes zstd into files named .tar: detection must come from the bytes.
    Case(file: "busybox-sleep-default-compress.tar", compression: .zstd),
  ])
  func detectsCompressionFromContent(_ fixture: Case) throws {
    let reader = try ArchiveReader(path: Fixtures.path(fixture.file))
    var names: [String] = []
    while let entry = try reader.next() {
      if let name = entry.normalizedPath { names.append(name) }
      #expect((entry.dataOffset != nil) == (fixture.compression == .none && entry.kind == .regular))
    }
    #expect(reader.compression == fixture.compression)
    #expect(names.contains("config.dump"))
    #expect(names.contains("checkpoint/pstree.img"))
    let plain = try TestArchive.read(Fixtures.path("busybox-sleep.tar")).map { $0.0.path }
    let these = try TestArchive.read(Fixtures.path(fixture.file)).map { $0.0.path }
    #expect(these == plain)
  }

  @Test func dataOffsetsReadMembersInPlace() throws {
    let path = Fixtures.path("busybox-sleep.tar")
    let file = try FileDescriptor(path: path, flags: O_RDONLY)
    var checked = 0
    for (entry, data) in try TestArchive.read(path) where entry.kind == .regular {
      let offset = try #require(entry.dataOffset)
      var inPlace = [UInt8](repeating: 0, count: data.count)
      let n = try inPlace.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
      #expect(n == data.count)
      #expect(inPlace == data, "\(entry.path)")
      checked += 1
    }
    #expect(checked > 20)
  }

  @Test func dataOffsetsSurviveLongNames() throws {
    let directory = try TemporaryDirectory()
    let long = String(repeating: "d", count: 150) + "/" + String(repeating: "n", count: 120) + ".img"
    let payload = pseudoRandomBytes(count: 5000)
    try TestArchive.write(
      [.file("short", [1, 2, 3]), .file(long, payload), .file("after", [9])], to: directory.file("a.tar"))
    let file = try FileDescriptor(path: directory.file("a.tar"), flags: O_RDONLY)
    for (entry, data) in try TestArchive.read(directory.file("a.tar")) {
      var inPlace = [UInt8](repeating: 0, count: data.count)
      _ = try inPlace.withUnsafeMutableBytes { try file.read(into: $0, at: try #require(entry.dataOffset)) }
      #expect(inPlace == data)
    }
    #expect(try TestArchive.read(directory.file("a.tar")).map { $0.0.path } == ["short", long, "after"])
  }

  @Test(arguments: ArchiveFilter.allCases)
  func roundTripsEachCompression(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    let big = pseudoRandomBytes(count: 3 << 20)
    try TestArchive.write(
      [.file("checkpointed.pods", Array("{}".utf8)), .directory("sub"), .file("sub/big.bin", big), .file("empty", [])],
      to: directory.file("x"), compression: compression)
    let reader = try ArchiveReader(path: directory.file("x"))
    var members: [String: [UInt8]] = [:]
    while let entry = try reader.next() {
      members[entry.path] = try reader.readAll(limit: 1 << 30, member: entry.path)
    }
    #expect(reader.compression == compression)
    #expect(members["checkpointed.pods"] == Array("{}".utf8))
    #expect(members["sub/big.bin"] == big)
    #expect(members["empty"] == [])
    #expect(members.count == 4)
  }

  /// A pipe cannot be read at offsets: it is streamed in blocks, and no member gets a data offset.
  @Test(arguments: [ArchiveFilter.none, .zstd])
  func readsAnArchiveFromAPipe(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    let (bytes, big) = try bigThenSmall(compression, in: directory)
    let reader = try ArchiveReader(path: try Files.fifo(named: "fifo", in: directory, feeding: bytes))
    var members: [String: [UInt8]] = [:]
    while let entry = try reader.next() {
      #expect(entry.dataOffset == nil)
      members[entry.path] = try reader.readAll(limit: 1 << 30, member: entry.path)
    }
    #expect(members == ["skipped.bin": big, "wanted.txt": Array("inner".utf8)])
  }

  @Test func refusesNonArchives() throws {
    let directory = try TemporaryDirectory()
    try Files.write(Array("this is not a tar archive at all, just text\n".utf8), to: directory.file("notar"))
    #expect(throws: ArchiveError.self) { try TestArchive.read(directory.file("notar")) }
    #expect(throws: SystemError.self) { try ArchiveReader(path: directory.file("missing")) }
    #expect(throws: SystemError.self) { try ArchiveReader(path: directory.path) }
  }

  @Test func reportsTruncatedArchives() throws {
    let directory = try TemporaryDirectory()
    let bytes = try Files.read(Fixtures.path("busybox-sleep.tar"))
    for cut in [700, 20_000, bytes.count / 2] {
      try Files.write(Array(bytes[0..<cut]), to: directory.file("cut.tar"))
      #expect(throws: ArchiveError.self) { try TestArchive.read(directory.file("cut.tar")) }
    }
  }

  @Test func readAllRefusesOversizedMembers() throws {
    let reader = try ArchiveReader(path: Fixtures.path("busybox-sleep.tar"))
    while let entry = try reader.next(), entry.normalizedPath != "config.dump" {}
    #expect(
      throws: ArchiveError.memberTooLarge(archive: Fixtures.path("busybox-sleep.tar"), member: "config.dump", limit: 10)
    ) {
      try reader.readAll(limit: 10, member: "config.dump")
    }
  }

  @Test func parsesCompressionNames() throws {
    #expect(try ArchiveFilter(name: "ZSTD") == .zstd)
    #expect(try ArchiveFilter(name: "gz") == .gzip)
    #expect(try ArchiveFilter(name: "None") == ArchiveFilter.none)
    #expect(throws: ArchiveError.unknownCompression("lz4")) { try ArchiveFilter(name: "lz4") }
    #expect(ArchiveFilter(fileExtensionOf: "backup.tar.gz") == .gzip)
    #expect(ArchiveFilter(fileExtensionOf: "backup.TZST") == .zstd)
    #expect(ArchiveFilter(fileExtensionOf: "backup.tar") == nil)
  }
}

@Suite struct ArchiveReaderBytesTests {
  /// An archive inside another one is read where it lies, skipping unread members by moving the offset.
  @Test(arguments: [ArchiveFilter.none, .gzip])
  func readsAnArchiveFromBytesAtOffsets(_ compression: ArchiveFilter) throws {
    let (bytes, _) = try bigThenSmall(compression, in: try TemporaryDirectory())
    let reader = try ArchiveReader(bytes: InMemoryBytes(bytes), size: Int64(bytes.count), displayPath: "outer:inner")
    var found: [String: [UInt8]] = [:]
    while let entry = try reader.next() {
      if entry.path == "wanted.txt" { found[entry.path] = try reader.readAll(limit: 100, member: entry.path) }
    }
    #expect(found == ["wanted.txt": Array("inner".utf8)])
    #expect(throws: ArchiveError.self) {
      let truncated = Array(bytes.prefix(bytes.count / 2))
      let cut = try ArchiveReader(bytes: InMemoryBytes(truncated), size: Int64(truncated.count), displayPath: "cut")
      while let entry = try cut.next() { _ = try cut.readAll(limit: 1 << 30, member: entry.path) }
    }
  }

  /// Listing an uncompressed archive reads headers only: small reads, and data skipped by moving the offset.
  @Test func listingReadsHeadersNotData() throws {
    let directory = try TemporaryDirectory()
    let pages = [UInt8](repeating: 0x5a, count: 32 << 20)
    try TestArchive.write(
      [.file("config.dump", Array("{}".utf8)), .file("checkpoint/pages-1.img", pages), .file("spec.dump", [1])],
      to: directory.file("x.tar"), compression: .none)
    let bytes = CountingBytes(InMemoryBytes(try Files.read(directory.file("x.tar"))))
    let reader = try ArchiveReader(bytes: bytes, size: Int64(bytes.inner.bytes.count), displayPath: "x.tar")
    var names: [String] = []
    while let entry = try reader.next() { names.append(entry.path) }
    #expect(names == ["config.dump", "checkpoint/pages-1.img", "spec.dump"])
    #expect(bytes.read < 256 << 10, "read \(bytes.read) bytes of a 32 MiB archive")
  }
}

/// Counts the bytes read through it.
private final class CountingBytes: RandomAccessBytes {
  let inner: InMemoryBytes
  var read = 0
  init(_ inner: InMemoryBytes) { self.inner = inner }
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    let n = try inner.read(into: buffer, at: offset)
    read += n
    return n
  }
}

/// An archive of a 3 MiB member (returned too) followed by a small one, and its bytes.
private func bigThenSmall(_ compression: ArchiveFilter, in directory: TemporaryDirectory) throws -> ([UInt8], [UInt8]) {
  let big = pseudoRandomBytes(count: 3 << 20)
  try TestArchive.write(
    [.file("skipped.bin", big), .file("wanted.txt", Array("inner".utf8))], to: directory.file("inner"),
    compression: compression)
  return (try Files.read(directory.file("inner")), big)
}
