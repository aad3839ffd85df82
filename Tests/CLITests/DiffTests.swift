import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// `diff`: upstream's command on busybox-diff-1/2 (goldens for each flag), its fixes, and the comparisons
/// beyond it on checkpoints with known changes.
@Suite struct DiffTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var flags: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "default", flags: []), Case(name: "files", flags: ["--files"]),
    Case(name: "sockets", flags: ["--sockets"]), Case(name: "ps-tree-cmd", flags: ["--ps-tree-cmd"]),
    Case(name: "ps-tree-env", flags: ["--ps-tree-env"]),
    Case(name: "show-unchanged", flags: ["--files", "--sockets", "--ps-tree-cmd", "--show-unchanged"]),
    Case(name: "mems", flags: ["--mems"]), Case(name: "pages", flags: ["--pages"]),
    Case(name: "pages-hexdump", flags: ["--pages", "--hexdump"]), Case(name: "rootfs", flags: ["--rootfs"]),
    Case(name: "all", flags: ["--all"]),
  ]

  @Test(arguments: cases)
  func goldenTreeAndJSON(_ test: Case) throws {
    for format in ["tree", "json"] {
      let result = try CLI.run(
        ["diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "--format", format] + test.flags, in: Fixtures.root)
      #expect(result.status == 0, "\(result.stderr)")
      #expect(result.stderr == "")
      let name = "diff/\(test.name).\(format == "json" ? "json" : "txt")"
      #expect(result.stdout == (try Fixtures.golden(name, actual: result.stdout)), "\(name)")
      if format == "json" { _ = try JSONValue(parsing: result.stdoutBytes) }
      // Deterministic: a second run prints the same bytes.
      let again = try CLI.run(
        ["diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "--format", format] + test.flags, in: Fixtures.root)
      #expect(again.stdout == result.stdout)
    }
  }

  /// Where upstream is right, the same facts: processes +3 -1, the same socket and file changes, and the same
  /// JSON keys for `jq` scripts.
  @Test func agreesWithUpstreamWhereItIsRight() throws {
    let result = try CLI.run(
      [
        "diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "--format", "json", "--files", "--sockets", "--ps-tree-cmd",
      ],
      in: Fixtures.root)
    let ours = try #require(try JSONValue(parsing: result.stdoutBytes).objectValue)
    let upstream = try #require(
      try JSONValue(parsing: Files.read(Fixtures.path("reference-output/diff.all-flags.json.canonical.json")))
        .objectValue)
    for key in ["container_id", "container_name", "image"] { #expect(ours[key] == upstream[key]) }
    func pids(_ object: [String: JSONValue], _ section: String, _ list: String) -> [Int64] {
      (object[section]?.objectValue?[list]?.arrayValue ?? []).compactMap { $0.objectValue?["pid"]?.integerValue }
        .sorted()
    }
    for list in ["added", "removed", "unchanged"] {
      #expect(pids(ours, "process_changes", list) == pids(upstream, "process_changes", list), "\(list)")
    }
    #expect(pids(ours, "socket_changes", "added") == pids(upstream, "socket_changes", "added"))
    #expect(pids(ours, "socket_changes", "unchanged") == pids(upstream, "socket_changes", "unchanged"))
    // Files are matched on what they are, not on CRIU's file ids: PID 8's listening socket is the same socket
    // in both dumps (upstream shows INETSK.11 added and INETSK.13 removed).
    #expect(pids(upstream, "file_changes", "added").count == 22)
    #expect(pids(ours, "file_changes", "added").count == 21)
    #expect(pids(ours, "file_changes", "removed").count == 7)
    let keys = Set(ours.keys)
    for key in upstream.keys { #expect(keys.contains(key), "\(key)") }
    #expect(ours["memory_changes"]?.objectValue?["size_change_bytes"] == .integer(4_210_688))
  }

  @Test func reversedAndSame() throws {
    let reversed = try CLI.run(["diff", "busybox-diff-2.tar", "busybox-diff-1.tar"], in: Fixtures.root)
    #expect(reversed.status == 0)
    #expect(reversed.stdout == (try Fixtures.golden("diff/reversed.txt", actual: reversed.stdout)))
    #expect(reversed.stdout.contains("│ ↓ Decreased by 4.0 MiB\n"))
    #expect(reversed.stdout.contains("│ Added:\n│   + PID 7     sleep\n│ Removed:\n│   - PID 14    sleep\n"))
    #expect(reversed.stdout.hasSuffix("Processes: +1 -3 ~0\nMemory: -4.0 MiB\n"))
    let same = try CLI.run(["diff", "busybox-diff-1.tar", "busybox-diff-1.tar", "--all"], in: Fixtures.root)
    #expect(same.status == 0)
    #expect(same.stdout.components(separatedBy: "= No change").count - 1 == 7)
    #expect(same.stdout.hasSuffix("Summary:\nCheckpoint comparison for container fx-diff\n"))
  }

  /// Each checkpoint's own time (Podman records none in config.dump: when CRIU wrote the images), sizes in
  /// inspect's units.
  @Test func createdIsEachCheckpointsTime() throws {
    let result = try CLI.run(["diff", "busybox-diff-1.tar", "busybox-diff-2.tar"], in: Fixtures.root)
    #expect(
      result.stdout.contains(
        "Checkpoint A:\n  Created: 2026-11-29T12:20:32Z\n  Size:    238.1 KiB\n\n"
          + "Checkpoint B:\n  Created: 2026-11-29T12:20:37Z\n  Size:    4.3 MiB\n\n"))
  }

  @Test func compressedAndDirectoryInputsGiveTheSameDiff() throws {
    let directory = try TemporaryDirectory()
    let unpacked = directory.file("two")
    mkdir(unpacked, 0o700)
    try Tool.run("tar", ["-xf", Fixtures.path("busybox-diff-2.tar"), "-C", unpacked])
    try Tool.run("tar", ["--zstd", "-cf", directory.file("one.tar.zst"), "."], in: unpacked)
    let gzip = directory.file("one.tar.gz")
    try Tool.run("sh", ["-c", "gzip -c < '\(Fixtures.path("busybox-diff-1.tar"))' > '\(gzip)'"])
    let flags = ["--all", "--hexdump"]
    let plain = try CLI.run(["diff", Fixtures.path("busybox-diff-1.tar"), Fixtures.path("busybox-diff-2.tar")] + flags)
    #expect(plain.status == 0, "\(plain.stderr)")
    for (a, b) in [(gzip, unpacked), (gzip, directory.file("one.tar.zst"))] {
      let other = try CLI.run(["diff", a, b] + flags)
      #expect(other.status == 0, "\(other.stderr)")
      #expect(other.stdout == plain.stdout)
    }
  }

  /// Checkpoints that can be read only once (FIFOs, as `<(cat a.tar)` gives them): the hexdump comes from the
  /// pass that compares the pages, and is the one the files give.
  @Test func hexdumpOfPipesReadOnce() throws {
    let directory = try TemporaryDirectory()
    let flags = ["--pages", "--hexdump"]
    let files = try CLI.run(["diff", "busybox-diff-1.tar", "busybox-diff-2.tar"] + flags, in: Fixtures.root)
    #expect(files.status == 0, "\(files.stderr)")
    let a = try Files.fifo(named: "a", in: directory, feeding: try Files.read(Fixtures.path("busybox-diff-1.tar")))
    let b = try Files.fifo(named: "b", in: directory, feeding: try Files.read(Fixtures.path("busybox-diff-2.tar")))
    // A second open of a FIFO would wait for a writer forever.
    let process = try CLI.start(["diff", a, b] + flags)
    let deadline = Date().addingTimeInterval(60)
    while process.process.isRunning && Date() < deadline { usleep(50_000) }
    if process.process.isRunning { process.kill() }
    let piped = process.wait()
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(piped.stdout == files.stdout)
  }

  @Test(arguments: [
    (["diff"], "accepts 2 arg(s), received 0"),
    (["diff", "busybox-diff-1.tar"], "accepts 2 arg(s), received 1"),
    (["diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "busybox-sleep.tar"], "accepts 2 arg(s), received 3"),
    (
      ["diff", "nope.tar", "busybox-diff-2.tar"], "failed to load checkpoint: stat nope.tar: no such file or directory"
    ),
    (["diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "--format=yaml"], "invalid output format: yaml"),
    (["diff", "busybox-diff-1.tar", "busybox-diff-2.tar", "--hexdump"], "--hexdump needs --pages"),
    (
      ["diff", "raw/piggie", "busybox-diff-2.tar"],
      "failed to load checkpoint: raw/piggie: config.dump: no such file or directory"
    ),
    (
      ["diff", "busybox-sleep.tar", "busybox-ptree.tar"],
      "checkpoints are from different containers: A: fx-sleep "
        + "(0f674aee6d9562cc20c6b76357079eb7a312cf3ec8ec00ec98392539d290d2d1), B: fx-ptree "
        + "(462fa0cea7f3dfd09406575678b1f71be507790b455d53187a87cfcbb4036e1d)"
    ),
  ])
  func errorsAreOneLine(_ arguments: [String], _ message: String) throws {
    let result = try CLI.run(arguments, in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stdout == "")
    #expect(result.stderr.hasPrefix("Error: \(message)"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
  }

  /// Upstream's own test: two archives of config.dump, spec.dump and an empty checkpoint/ compare as equal.
  @Test func metadataOnlyCheckpoints() throws {
    let checkpoint = try UpstreamStyleCheckpoint()
    let first = try checkpoint.pack("test1.tar")
    let second = try checkpoint.pack("test2.tar")
    let tree = try CLI.run(["diff", first, second])
    #expect(tree.status == 0, "\(tree.stderr)")
    for text in ["Checkpoint Diff", "Memory Changes", "Process Tree"] { #expect(tree.stdout.contains(text)) }
    #expect(tree.stdout.components(separatedBy: "No change").count - 1 >= 2)
    let json = try CLI.run(["diff", first, second, "--format=json"])
    #expect(try JSONValue(parsing: json.stdoutBytes).objectValue?["container_id"] != nil)
  }
}

/// Checkpoints with known changes, made from the fixtures: memory pages rewritten in place, VMAs and
/// environments changed through `decode` and `encode`.
@Suite struct DiffKnownChangesTests {
  /// A fixture unpacked, for editing.
  static func unpack(_ fixture: String, into directory: TemporaryDirectory, as name: String) throws -> String {
    let path = directory.file(name)
    mkdir(path, 0o700)
    try Tool.run("tar", ["-xf", Fixtures.path(fixture), "-C", path])
    return path
  }

  /// Replaces `old` with `new` (same length) everywhere in a file; returns how many times.
  static func replace(_ old: String, with new: String, in path: String) throws -> Int {
    var bytes = try Files.read(path)
    let needle = Array(old.utf8)
    let replacement = Array(new.utf8)
    var count = 0
    var index = 0
    while index + needle.count <= bytes.count {
      if bytes[index] == needle[0] && Array(bytes[index..<index + needle.count]) == needle {
        bytes.replaceSubrange(index..<index + needle.count, with: replacement)
        count += 1
        index += needle.count
      } else {
        index += 1
      }
    }
    try Files.write(bytes, to: path)
    return count
  }

  /// Rewrites an image through `decode`, an edit of its JSON, and `encode`.
  static func edit(_ image: String, _ change: (inout [String: JSONValue]) throws -> Void) throws {
    let decoded = try CLI.run(["decode", image])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    var document = try #require(try JSONValue(parsing: decoded.stdoutBytes).objectValue)
    var entries = try #require(document["entries"]?.arrayValue)
    var first = try #require(entries[0].objectValue)
    try change(&first)
    entries[0] = .object(first)
    document["entries"] = .array(entries)
    let json = image + ".json"
    try Files.write(Array(JSONValue.object(document).formatted().utf8), to: json)
    let encoded = try CLI.run(["encode", "-i", json, "-o", image])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    unlink(json)
  }

  @Test func pagesChangedByContent() throws {
    let directory = try TemporaryDirectory()
    let before = try Self.unpack("busybox-needle.tar", into: directory, as: "before")
    let after = try Self.unpack("busybox-needle.tar", into: directory, as: "after")
    // Where the needle lies, as memparse finds it.
    let search = try CLI.run(["memparse", "--search", "MEMPARSE_NEEDLE_7f3a9c_shellvar", "--format", "json", before])
    let hit = try #require(
      try JSONValue(parsing: search.stdoutBytes).objectValue?["hits"]?.arrayValue?.first?.objectValue)
    let addressText = try #require(hit["address"]?.stringValue)
    let address = try #require(UInt64(addressText.dropFirst(2), radix: 16))
    #expect(
      try Self.replace(
        "MEMPARSE_NEEDLE_7f3a9c_shellvar", with: "MEMPARSE_NEEDLE_7f3a9c_CHANGEDv",
        in: after + "/checkpoint/pages-1.img")
        == 1)
    let result = try CLI.run(["diff", before, after, "--pages", "--hexdump", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let pages = try #require(try JSONValue(parsing: result.stdoutBytes).objectValue?["page_changes"]?.arrayValue)
    let changed = pages.compactMap(\.objectValue).filter { ($0["changed_bytes"]?.integerValue ?? 0) != 0 }
    #expect(changed.count == 1)
    #expect(changed.first?["pid"] == .integer(1))
    #expect(changed.first?["changed_bytes"] == .integer(4096))
    #expect(changed.first?["added_bytes"] == .integer(0) && changed.first?["removed_bytes"] == .integer(0))
    let range = try #require(changed.first?["ranges"]?.arrayValue?.first?.objectValue)
    let page = address / 4096 * 4096
    #expect(range["start"] == .string("0x" + String(page, radix: 16)))
    #expect(range["end"] == .string("0x" + String(page + 4096, radix: 16)))
    #expect(range["vma"] == .string("[heap]"))
    // The hexdump shows the rows that differ, both sides.
    let tree = try CLI.run(["diff", before, after, "--pages", "--hexdump"])
    // The first 23 bytes (`MEMPARSE_NEEDLE_7f3a9c_`) are the same: the first differing row holds byte 23.
    let row = (address + 23) / 16 * 16
    let hex = String(repeating: "0", count: 16 - String(row, radix: 16).count) + String(row, radix: 16)
    #expect(tree.stdout.contains("│     - \(hex)  "))
    #expect(tree.stdout.contains("│     + \(hex)  "))
    #expect(tree.stdout.contains("CHANGED") || tree.stdout.contains("_CHANG"))
    #expect(tree.stdout.contains("Pages: +0 B -0 B ~4.0 KiB\n"))
    // Moving a page in the pages file without changing memory is no change: pages compare by address.
    let same = try CLI.run(["diff", before, before, "--pages"])
    #expect(same.stdout.contains("┌─ Page Changes ─"))
    #expect(!same.stdout.contains("Pages:"))
  }

  /// Anonymous shared memory lives only in its own pagemap and pages file: a change there shows in every
  /// process that maps it, at the address it is mapped.
  @Test func sharedMemoryPages() throws {
    let directory = try TemporaryDirectory()
    let before = try Self.unpack("busybox-shm.tar.gz", into: directory, as: "before")
    let after = try Self.unpack("busybox-shm.tar.gz", into: directory, as: "after")
    var replaced = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: after + "/checkpoint")
    where name.hasPrefix("pages-") {
      replaced += try Self.replace(
        "SHMEM_ANON_NEEDLE_7f3a9c", with: "SHMEM_ANON_CHANGED_7f3a9", in: after + "/checkpoint/" + name)
    }
    #expect(replaced == 1)
    let result = try CLI.run(["diff", before, after, "--pages"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    for pid in ["1", "6"] {
      let header = try #require(lines.firstIndex(of: "│ PID \(pid) (shmhog): +0 B -0 B ~4.0 KiB"))
      #expect(lines[header + 1].hasSuffix("4.0 KiB    [memfd]"))
    }
    #expect(result.stdout.contains("Pages: +0 B -0 B ~8.0 KiB\n"))
  }

  @Test func vmasAndEnvironment() throws {
    let directory = try TemporaryDirectory()
    let before = try Self.unpack("busybox-sleep.tar", into: directory, as: "before")
    let after = try Self.unpack("busybox-sleep.tar", into: directory, as: "after")
    var removedStart: UInt64 = 0
    try Self.edit(after + "/checkpoint/mm-1.img") { mm in
      var vmas = try #require(mm["vmas"]?.arrayValue)
      // Drop the last VMA (vsyscall or stack), make the first one writable.
      let last = try #require(vmas.popLast()?.objectValue)
      switch last["start"] {
      case .unsigned(let value)?: removedStart = value
      case .integer(let value)?: removedStart = UInt64(value)
      default: Issue.record("no start in \(last)")
      }
      var first = try #require(vmas[0].objectValue)
      first["prot"] = .integer((first["prot"]?.integerValue ?? 0) | 2)
      vmas[0] = .object(first)
      mm["vmas"] = .array(vmas)
      // The environment now starts one variable later.
      let start = try #require(mm["mm_env_start"]?.integerValue)
      mm["mm_env_start"] = .integer(start + 5)
    }
    let result = try CLI.run(["diff", before, after, "--mems", "--ps-tree-env", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONValue(parsing: result.stdoutBytes).objectValue)
    let maps = try #require(object["memory_map_changes"]?.arrayValue?.first?.objectValue)
    #expect(
      maps["removed"]?.arrayValue?.first?.objectValue?["start"] == .string("0x" + String(removedStart, radix: 16)))
    let changed = try #require(maps["changed"]?.arrayValue?.first?.objectValue)
    #expect(changed["before"]?.objectValue?["permissions"] == .string("r--p"))
    #expect(changed["after"]?.objectValue?["permissions"] == .string("rw-p"))
    let modified = try #require(object["process_changes"]?.objectValue?["modified"]?.arrayValue?.first?.objectValue)
    #expect(modified["pid"] == .integer(1))
    let fields = (modified["changes"]?.arrayValue ?? []).compactMap { $0.objectValue?["field"]?.stringValue }
    #expect(!fields.isEmpty && fields.allSatisfy { $0 == "environment" })
    let tree = try CLI.run(["diff", before, after, "--mems", "--ps-tree-env"])
    #expect(tree.stdout.contains("│ Modified:\n│   ~ PID 1     sleep\n│       environment: "))
    #expect(tree.stdout.contains("Memory maps: +0 -1 ~1\n"))
    // Upstream ignores --ps-tree-env; without it the environment is not compared.
    let without = try CLI.run(["diff", before, after])
    #expect(without.stdout.contains("│ = No change\n"))
  }

  /// Upstream pipes its own JSON through a fixed 1 MiB buffer and hangs on large environments; any size works
  /// here. busybox-memhog64's environment is pointed at 200 KiB of its 64 MiB region.
  @Test func largeEnvironment() throws {
    let directory = try TemporaryDirectory()
    let before = try Self.unpack("busybox-memhog64.tar.zst", into: directory, as: "before")
    let after = try Self.unpack("busybox-memhog64.tar.zst", into: directory, as: "after")
    let info = try CLI.run(["inspect", "--mems", "--format", "json", before])
    let maps = try #require(
      try JSONValue(parsing: info.stdoutBytes).arrayValue?.first?.objectValue?["process_tree"]?.objectValue?[
        "memory_maps"]?.arrayValue)
    let region = try #require(
      maps.compactMap(\.objectValue).first { ($0["resident"]?.integerValue ?? 0) >= 64 << 20 })
    let startText = try #require(region["start"]?.stringValue)
    let start = try #require(UInt64(startText.dropFirst(2), radix: 16))
    for (path, offset) in [(before, UInt64(0)), (after, UInt64(4096))] {
      try Self.edit(path + "/checkpoint/mm-1.img") { mm in
        mm["mm_env_start"] = .integer(Int64(start + offset))
        mm["mm_env_end"] = .integer(Int64(start + offset + 200 * 1024))
      }
    }
    for format in ["tree", "json"] {
      let process = try CLI.start(["diff", before, after, "--ps-tree-env", "--format", format])
      let deadline = Date().addingTimeInterval(60)
      while process.process.isRunning && Date() < deadline { usleep(50_000) }
      if process.process.isRunning { process.kill() }
      let result = process.wait()
      #expect(result.status == 0, "\(result.stderr)")
      #expect(result.stdout.utf8.count > 400 * 1024, "\(format)")
      #expect(result.stdout.contains("MHPAGE0000000001"))
    }
  }
}
