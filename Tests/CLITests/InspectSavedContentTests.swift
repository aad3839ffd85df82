import Archive
import Foundation
import SystemSupport
import TestSupport
import Testing

/// `inspect --devshm` and `--volumes`: the tars Podman saves beside the images. The helpers serve `--log` too.
@Suite struct InspectSavedContentTests {
  /// The fixture `fixture` copied to `name` in `directory` without its `ctr.log`, with `extra` members; a name
  /// without an archive suffix is a checkpoint directory.
  static func checkpoint(
    _ name: String, in directory: TemporaryDirectory, from fixture: String = "busybox-sleep.tar",
    compression: ArchiveFilter = .none, dropping dropped: Set<String> = ["ctr.log"],
    extra: [TestArchive.Member] = []
  ) throws -> String {
    let path = directory.file(name)
    let isDirectory = !name.contains(".tar")
    let archive = isDirectory ? directory.file(name + ".source.tar") : path
    try TestArchive.copy(Fixtures.path(fixture), to: archive, compression: compression, extra: extra) { member, bytes in
      dropped.contains(member) ? nil : .file(member, bytes)
    }
    if isDirectory {
      mkdir(path, 0o700)
      try SafeExtraction.extract(try ArchiveReader(path: archive), into: path)
    }
    return path
  }

  /// A tar of `members`, as bytes to put in a checkpoint.
  static func tar(_ members: [TestArchive.Member], in directory: TemporaryDirectory) throws -> [UInt8] {
    let path = directory.file("inner-\(UUID().uuidString).tar")
    try TestArchive.write(members, to: path)
    return try Files.read(path)
  }

  static func object(_ result: CommandResult) throws -> [String: JSONValue] {
    #expect(result.status == 0, "\(result.stderr)")
    return try #require(try JSONValue(parsing: result.stdoutBytes).arrayValue?.first?.objectValue)
  }

  /// The top-level tree line starting with `section`, then its children's lines, without their branch prefix.
  static func section(_ section: String, of output: String) -> [String] {
    let lines = output.split(separator: "\n").map(String.init)
    guard let start = lines.firstIndex(where: { $0.dropFirst(4).hasPrefix(section) }) else { return [] }
    var result = [String(lines[start].dropFirst(4))]
    for line in lines[(start + 1)...] {
      guard line.hasPrefix("    ") || line.hasPrefix("│   ") else { break }
      let child = line.dropFirst(4)
      if child.hasPrefix("├── ") || child.hasPrefix("└── ") { result.append(String(child.dropFirst(4))) }
    }
    return result
  }

  /// MANIFEST (busybox-shm): a POSIX shared memory object of 256 KiB in `/dev/shm`.
  @Test func devShmOfBusyboxShm() throws {
    let result = try CLI.run(["inspect", "--devshm", "busybox-shm.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.hasSuffix(
        "├── Root FS diff size: 2.0 KiB\n└── /dev/shm (devshm-checkpoint.tar, 258.0 KiB, 1 entry)\n"
          + "    └── /dev/shm/fx-posix-shm  (256.0 KiB, -rw-------)\n\n"))
    let json = try Self.object(
      try CLI.run(["inspect", "--devshm", "--format", "json", "busybox-shm.tar.gz"], in: Fixtures.root))
    #expect(
      json["devshm"]
        == .object([
          "destination": .string("/dev/shm"), "size": .integer(264_192),
          "files": .array([
            .object(["path": .string("fx-posix-shm"), "size": .integer(262_144), "mode": .string("-rw-------")])
          ]),
        ]))
    let empty = try CLI.run(["inspect", "--devshm", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(empty.stdout.hasSuffix("└── /dev/shm (devshm-checkpoint.tar, 1.5 KiB, 0 entries)\n\n"))
  }

  @Test func devShmAbsentAndHostileNames() throws {
    let directory = try TemporaryDirectory()
    let absent = try Self.checkpoint("absent.tar", in: directory, dropping: ["devshm-checkpoint.tar"])
    let result = try CLI.run(["inspect", "--devshm", absent])
    #expect(result.stdout.hasSuffix("└── /dev/shm: not in the checkpoint\n\n"))
    #expect((try Self.object(try CLI.run(["inspect", "--devshm", "--format", "json", absent])))["devshm"] == .null)
    let inner = try Self.tar(
      [
        .directory("./"), .file("./a\nb\u{1B}[31m", [1, 2, 3]), .symlink("./link", to: "/etc/passwd"),
        .special("./p", .fifo),
      ],
      in: directory)
    let named = try Self.checkpoint(
      "named.tar", in: directory, dropping: ["devshm-checkpoint.tar"], extra: [.file("devshm-checkpoint.tar", inner)])
    let tree = try CLI.run(["inspect", "--devshm", named])
    #expect(tree.status == 0, "\(tree.stderr)")
    #expect(
      Self.section("/dev/shm", of: tree.stdout) == [
        "/dev/shm (devshm-checkpoint.tar, \(ByteCount.format(Int64(inner.count))), 3 entries)",
        "/dev/shm/a\\nb\\x1b[31m  (3 B, -rw-------)", "/dev/shm/link  (0 B, lrwxrwxrwx)",
        "/dev/shm/p  (0 B, prw-------)",
      ])
  }

  struct DamageCase: Sendable, CustomTestStringConvertible {
    var flag: String
    var member: String
    var testDescription: String { "\(flag) with \(member)" }
  }

  /// A member that is not a tar, or a tar cut short inside a member whose header claims more data than follows:
  /// one `Error:` line naming the member.
  @Test(arguments: [
    DamageCase(flag: "--devshm", member: "devshm-checkpoint.tar"),
    DamageCase(flag: "--volumes", member: "volumes/v.tar"),
  ])
  func damagedTarsAreOneError(_ damage: DamageCase) throws {
    let directory = try TemporaryDirectory()
    let whole = try Self.tar([.file("big", pseudoRandomBytes(count: 100_000))], in: directory)
    for (index, bytes) in [Array(repeating: UInt8(0x41), count: 1000), Array(whole.prefix(600))].enumerated() {
      let path = try Self.checkpoint(
        "damaged-\(index).tar", in: directory, dropping: ["devshm-checkpoint.tar"], extra: [.file(damage.member, bytes)]
      )
      let base = try CLI.run(["inspect", path])
      #expect(base.status == 0, "only \(damage.flag) reads the member")
      let result = try CLI.run(["inspect", damage.flag, path])
      #expect(result.status == 1 && result.stdout == "")
      #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(damage.member), "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1)
    }
  }

  /// MANIFEST (busybox-ptree): the named volume `fx-vol` mounted at `/data`, with two files.
  @Test(arguments: ["busybox-ptree.tar", "ptree.tar.zst", "ptree-directory"])
  func volumesOfBusyboxPtree(_ name: String) throws {
    let directory = try TemporaryDirectory()
    let path =
      name == "busybox-ptree.tar"
      ? Fixtures.path(name)
      : try Self.checkpoint(
        name, in: directory, from: "busybox-ptree.tar", compression: name.hasSuffix(".zst") ? .zstd : .none,
        dropping: [])
    let result = try CLI.run(["inspect", "--volumes", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout.hasSuffix(
        """
        └── Volumes
            └── fx-vol → /data (volumes/fx-vol.tar, 3.0 KiB, 2 entries)
                ├── /data/in-volume.txt  (12 B, -rw-r--r--)
                └── /data/volume-log.txt  (0 B, -rw-r--r--)


        """))
    let json = try Self.object(try CLI.run(["inspect", "--volumes", "--format", "json", path]))
    #expect(
      json["volumes"]
        == .array([
          .object([
            "name": .string("fx-vol"), "destination": .string("/data"), "size": .integer(3072),
            "files": .array([
              .object(["path": .string("in-volume.txt"), "size": .integer(12), "mode": .string("-rw-r--r--")]),
              .object(["path": .string("volume-log.txt"), "size": .integer(0), "mode": .string("-rw-r--r--")]),
            ]),
          ])
        ]))
  }

  /// Volumes `config.dump` does not name are shown without a mount point; other members of `volumes/` are not
  /// volumes.
  @Test func volumesWithoutMountPoints() throws {
    let directory = try TemporaryDirectory()
    let inner = try Self.tar([.directory("./"), .directory("./sub"), .file("./sub/data", [1])], in: directory)
    let path = try Self.checkpoint(
      "volumes.tar", in: directory,
      extra: [
        .file("volumes/b-vol.tar", inner), .file("volumes/a.tar", inner), .file("volumes/notes.txt", [1]),
        .file("volumes/deeper/c.tar", inner), .file("volumes/.tar", inner),
      ])
    let result = try CLI.run(["inspect", "--volumes", path])
    #expect(result.status == 0, "\(result.stderr)")
    let size = ByteCount.format(Int64(inner.count))
    #expect(
      Self.section("Volumes", of: result.stdout) == [
        "Volumes", "a (volumes/a.tar, \(size), 2 entries)", "b-vol (volumes/b-vol.tar, \(size), 2 entries)",
      ])
    #expect(result.stdout.contains("    │   ├── sub  (0 B, drwxr-xr-x)\n    │   └── sub/data  (1 B, -rw-------)\n"))
    let json = try Self.object(try CLI.run(["inspect", "--volumes", "--format", "json", path]))
    #expect(json["volumes"]?.arrayValue?.map { $0.member("destination") } == [.string(""), .string("")])
    let none = try CLI.run(["inspect", "--volumes", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(none.stdout.hasSuffix("└── Volumes: none\n\n"))
    #expect(
      (try Self.object(
        try CLI.run(["inspect", "--volumes", "--format", "json", "busybox-sleep.tar"], in: Fixtures.root)))["volumes"]
        == .array([]))
  }
}
