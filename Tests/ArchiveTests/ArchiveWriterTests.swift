import Archive
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct ArchiveWriterTests {
  /// A member whose data is placed in the file by other means (an OCI archive's layer, compressed straight into
  /// the archive) gets a one-block header from libarchive, for any size: GNU tar and libarchive read it back,
  /// also beyond the 8 GiB an octal ustar size can hold (base-256).
  @Test(arguments: [Int64(0), 1, 511, 512, 70_000, 9 << 30])
  func headerBlockFramesDataWrittenSeparately(_ size: Int64) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("out.tar")
    let name = "blobs/sha256/" + String(repeating: "ab", count: 32)
    let header = try ArchiveWriter.headerBlock(
      for: ArchiveEntry(path: name, kind: .regular, size: size, permissions: 0o600, modificationTime: 1_700_000_000),
      displayPath: path)
    #expect(header.count == 512)
    let file = try FileDescriptor(path: path, flags: O_RDWR | O_CREAT | O_TRUNC)
    try file.write(header, at: 0)
    // The data: a marker at each end, a hole between (the file stays sparse).
    if size > 0 {
      try file.write([0x41], at: 512)
      try file.write([0x5a], at: 512 + size - 1)
    }
    let end = 512 + (size + 511) / 512 * 512
    #expect(lseek(file.rawValue, off_t(end), SEEK_SET) == end)
    let writer = try ArchiveWriter(descriptor: file, compression: .none, displayPath: path)
    try writer.addFile(named: "after", bytes: Array("next".utf8), modificationTime: 1_700_000_000)
    try writer.finish()
    try file.close()

    let reader = try ArchiveReader(path: path)
    let first = try #require(try reader.next())
    #expect(first.normalizedPath == name)
    #expect(first.size == size)
    #expect(first.dataOffset == 512)
    #expect(first.permissions & 0o777 == 0o600)
    let second = try #require(try reader.next())
    #expect(second.normalizedPath == "after")
    #expect(try reader.readAll(limit: 16, member: "after") == Array("next".utf8))
    #expect(try reader.next() == nil)
    if size < 1 << 20 {
      let listing = try Tool.run("tar", ["tvf", path])
      #expect(listing.contains(" \(size) ") && listing.contains(name), "\(listing)")
    }
  }

  @Test func headerBlockRefusesANameThatDoesNotFitOneBlock() throws {
    let long = String(repeating: "x", count: 200)
    #expect(throws: ArchiveError.self) {
      _ = try ArchiveWriter.headerBlock(
        for: ArchiveEntry(path: long, kind: .regular, size: 1, modificationTime: 0), displayPath: "out.tar")
    }
  }
}
