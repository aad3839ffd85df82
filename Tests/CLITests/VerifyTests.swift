import Archive
import TestSupport
import Testing

/// `verify` end to end: exit status, text (goldens), JSON, several checkpoints, a truncated archive.
@Suite struct VerifyCLITests {
  /// A copy of busybox-sleep.tar with three problems, written in `directory` as `name`.
  static func tampered(in directory: TemporaryDirectory, _ name: String = "tampered.tar") throws {
    try TestArchive.copy(Fixtures.path("busybox-sleep.tar"), to: directory.file(name)) { member, bytes in
      switch member {
      case "config.dump": return .file(member, Array("{".utf8))
      case "checkpoint/mm-1.img": return nil
      case "checkpoint/pages-1.img": return .file(member, bytes + [UInt8](repeating: 0, count: 4096))
      default: return .file(member, bytes)
      }
    }
  }

  @Test func anIntactCheckpoint() throws {
    let result = try CLI.run(["verify", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(result.status == 0)
    #expect(result.stderr == "")
    #expect(result.stdout == (try Fixtures.golden("verify/intact.txt", actual: result.stdout)))
  }

  @Test func aTamperedCheckpoint() throws {
    let directory = try TemporaryDirectory()
    try Self.tampered(in: directory)
    let result = try CLI.run(["verify", "tampered.tar"], in: directory.path)
    #expect(result.status == 1)
    #expect(result.stderr == "")
    #expect(result.stdout == (try Fixtures.golden("verify/tampered.txt", actual: result.stdout)))
  }

  @Test func twoCheckpointsOneIntactBothReported() throws {
    let directory = try TemporaryDirectory()
    try Self.tampered(in: directory)
    let result = try CLI.run(["verify", Fixtures.path("busybox-sleep.tar.zst"), "tampered.tar"], in: directory.path)
    #expect(result.status == 1)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first == Fixtures.path("busybox-sleep.tar.zst") + ": intact (29 members, 17 images, 15 pages)")
    #expect(lines.last == "tampered.tar: 3 problems")
    #expect(lines.count == 5)
  }

  @Test func json() throws {
    let directory = try TemporaryDirectory()
    try Self.tampered(in: directory)
    let result = try CLI.run(["verify", "--format", "json", "tampered.tar", "missing.tar"], in: directory.path)
    #expect(result.status == 1)
    #expect(
      result.stdout == """
        [
          {
            "checkpoint": "tampered.tar",
            "kind": "container",
            "intact": false,
            "members": 28,
            "images": 16,
            "pages": 16,
            "problems": [
              {
                "checkpoint": "tampered.tar",
                "member": "config.dump",
                "problem": "not valid JSON: unexpected end of JSON input"
              },
              {
                "checkpoint": "tampered.tar",
                "member": "checkpoint/pages-1.img",
                "problem": "holds 16 pages, pagemap-1.img places 15: 1 extra"
              },
              {
                "checkpoint": "tampered.tar",
                "member": "checkpoint/mm-1.img",
                "problem": "missing (process 1 in pstree.img)"
              }
            ]
          },
          {
            "checkpoint": "missing.tar",
            "kind": "container",
            "intact": false,
            "members": 0,
            "images": 0,
            "pages": 0,
            "problems": [
              {
                "checkpoint": "missing.tar",
                "member": null,
                "problem": "\(try #require(result.stdout.split(separator: "\"problem\": \"").last?.split(separator: "\"").first))"
              }
            ]
          }
        ]

        """)
  }

  @Test func aTruncatedZstdArchiveIsAProblemNotATrap() throws {
    let directory = try TemporaryDirectory()
    let bytes = try Files.read(Fixtures.path("busybox-memhog64.tar.zst"))
    try Files.write(Array(bytes.prefix(bytes.count * 3 / 4)), to: directory.file("cut.tar.zst"))
    let result = try CLI.run(["verify", "cut.tar.zst"], in: directory.path)
    #expect(!result.signaled)
    #expect(result.status == 1)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 2)
    #expect(lines.first?.hasPrefix("cut.tar.zst: ") == true && lines.first?.contains("reading cut.tar.zst") == true)
    #expect(lines.last == "cut.tar.zst: 1 problem")
  }

  @Test func aKubeletStore() throws {
    let result = try CLI.run(["verify", "kubelet-store"], in: Fixtures.root)
    #expect(result.status == 0)
    #expect(result.stdout == "kubelet-store: intact (61 members, 34 images, 30 pages)\n")
  }
}
