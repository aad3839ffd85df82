import Archive
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct SafeExtractionTests {
  struct Hostile: Sendable, CustomTestStringConvertible {
    var name: String
    var members: [TestArchive.Member]
    var testDescription: String { name }
  }

  static let hostile: [Hostile] = [
    Hostile(name: "dot-dot", members: [.file("../escaped", [1])]),
    Hostile(name: "nested dot-dot", members: [.file("a/../../escaped", [1])]),
    Hostile(name: "absolute", members: [.file("/tmp/escaped-absolute", [1])]),
    Hostile(name: "symlink to absolute", members: [.symlink("link", to: "/etc")]),
    Hostile(name: "symlink up", members: [.directory("a"), .symlink("a/link", to: "../../outside")]),
    Hostile(name: "hard link up", members: [.hardLink("link", to: "../outside")]),
    Hostile(name: "hard link to absolute", members: [.hardLink("link", to: "/etc/passwd")]),
    Hostile(name: "device node", members: [.special("dev", .characterDevice)]),
    Hostile(name: "fifo", members: [.special("fifo", .fifo)]),
    // A symlink that stays inside, then a member written through it: refused by O_NOFOLLOW.
    Hostile(name: "write through symlink", members: [.directory("d"), .symlink("s", to: "d"), .file("s/x", [1])]),
  ]

  @Test(arguments: hostile)
  func refusesHostileMembers(_ archive: Hostile) throws {
    let directory = try TemporaryDirectory()
    let target = directory.file("target")
    mkdir(target, 0o700)
    try TestArchive.write(archive.members, to: directory.file("hostile.tar"))
    let reader = try ArchiveReader(path: directory.file("hostile.tar"))
    #expect(throws: (any Error).self) { try SafeExtraction.extract(reader, into: target) }
    // Nothing appeared beside the target.
    let siblings = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(siblings == ["hostile.tar", "target"])
    #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped-absolute"))
  }

  @Test func extractsPrivately() throws {
    let directory = try TemporaryDirectory()
    let target = directory.file("target")
    mkdir(target, 0o700)
    try TestArchive.write(
      [.directory("./"), .directory("a"), .file("a/f", [1, 2]), .symlink("a/l", to: "f"), .hardLink("h", to: "a/f")],
      to: directory.file("ok.tar"))
    let written = try SafeExtraction.extract(try ArchiveReader(path: directory.file("ok.tar")), into: target)
    #expect(written == ["a", "a/f", "a/l", "h"])
    #expect(Files.permissions(target + "/a") == 0o700)
    #expect(Files.permissions(target + "/a/f") == 0o600)
    #expect(try Files.read(target + "/h") == [1, 2])
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/a/l") == "f")
  }

  @Test func neverReplacesExistingFiles() throws {
    let directory = try TemporaryDirectory()
    try Files.write([7], to: directory.file("f"))
    try TestArchive.write([.file("f", [1])], to: directory.file("a.tar"))
    #expect(throws: SystemError.self) {
      try SafeExtraction.extract(try ArchiveReader(path: directory.file("a.tar")), into: directory.path)
    }
    #expect(try Files.read(directory.file("f")) == [7])
  }
}
