import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// `--format json` on every command that prints data: each output parses and holds the facts of the table.
@Suite struct JSONOutputTests {
  func parse(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
    return try JSONValue(parsing: result.stdoutBytes)
  }

  @Test func showOfContainerCheckpoints() throws {
    let result = try CLI.run(
      ["show", "--format", "json", "busybox-sleep.tar", "debian-net.tar.gz"], in: Fixtures.root)
    let array = try #require(try parse(result).arrayValue)
    #expect(array.count == 2)
    let sleep = try #require(array[0].objectValue)
    #expect(sleep["path"] == .string("busybox-sleep.tar"))
    #expect(sleep["container_name"] == .string("fx-sleep"))
    #expect(sleep["engine"] == .string("Podman"))
    #expect(sleep["checkpoint_size"] == .integer(83699))
    #expect(sleep["memory_pages_size"] == .integer(61440))
    #expect(sleep["checkpointed"] == .string("2026-11-29T12:19:12Z"))
    #expect(array[1].objectValue?["root_fs_diff_size"] == .integer(1536))
    // A bad input among them: the readable ones are printed, the bad one is an error line, exit 1.
    let mixed = try CLI.run(["show", "--format", "json", "busybox-sleep.tar", "nope.tar"], in: Fixtures.root)
    #expect(mixed.status == 1)
    #expect(mixed.stderr == "Error: stat nope.tar: no such file or directory\n")
    #expect(try JSONValue(parsing: mixed.stdoutBytes).arrayValue?.count == 1)
  }

  @Test func showOfKubeletAPIArchivesAndList() throws {
    let directory = try TemporaryDirectory()
    let kubelet = try KubeletDirectory.make(in: directory)
    try Files.write([0], to: kubelet + "/checkpoint-broken.tar")
    let show = try CLI.run(["show", "--target", kubelet, "--format", "json"])
    #expect(show.status == 1)
    #expect(try JSONValue(parsing: show.stdoutBytes).arrayValue?.count == 2)
    let list = try CLI.run(["list", kubelet, "--format", "json"])
    let object = try #require(try parse(list).objectValue)
    #expect(object["directories"] == .array([.string(kubelet)]))
    let checkpoints = (object["checkpoints"]?.arrayValue ?? []).compactMap(\.objectValue)
    #expect(checkpoints.map { $0["checkpoint_name"]?.stringValue } == KubeletDirectory.names.map { $0 }.reversed())
    #expect(checkpoints.first?["time_checkpointed"] == .string("2026-11-29T12:19:10Z"))
    #expect(checkpoints.first?["container"] == .string("fx-sleep"))
    let errors = try #require(object["errors"]?.arrayValue)
    #expect(errors.first?.objectValue?["path"] == .string(kubelet + "/checkpoint-broken.tar"))
    #expect(list.stderr.hasPrefix("Error extracting information from \(kubelet)/checkpoint-broken.tar: "))
  }

  @Test func memparseSizesSearchAndDump() throws {
    let sizes = try parse(
      CLI.run(["memparse", "--format", "json", "busybox-ptree.tar", "busybox-sleep.tar"], in: Fixtures.root))
    let tables = (sizes.arrayValue ?? []).compactMap(\.objectValue)
    #expect(tables.map { $0["source"] } == [.string("busybox-ptree.tar"), .string("busybox-sleep.tar")])
    let sleep = try #require(tables[1]["processes"]?.arrayValue?.first?.objectValue)
    #expect(sleep["pid"] == .integer(1) && sleep["process_name"] == .string("sleep"))
    #expect(sleep["memory_size"] == .integer(61440) && sleep["shared_memory_size"] == .integer(0))

    let search = try parse(
      CLI.run(
        ["memparse", "--format", "json", "--search", "MEMPARSE_NEEDLE_7f3a9c_shellvar", "busybox-needle.tar"],
        in: Fixtures.root))
    #expect(search.objectValue?["hits"]?.arrayValue?.first?.objectValue?["address"] == .string("0x25bfe902"))

    // The dump as address/hex records: the same bytes as --raw.
    let dump = try parse(
      CLI.run(["memparse", "--format", "json", "--pid", "1", "busybox-sleep.tar"], in: Fixtures.root))
    let object = try #require(dump.objectValue)
    #expect(object["pid"] == .integer(1))
    let rows = (object["rows"]?.arrayValue ?? []).compactMap(\.objectValue)
    let raw = try CLI.run(["memparse", "--raw", "--pid", "1", "busybox-sleep.tar"], in: Fixtures.root)
    var bytes: [UInt8] = []
    for row in rows {
      let hex = Array(try #require(row["hex"]?.stringValue).utf8)
      for index in stride(from: 0, to: hex.count, by: 2) {
        bytes.append(try #require(UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16)))
      }
    }
    #expect(bytes == raw.stdoutBytes)
    #expect(rows.first?["address"] == .string("0x401000"))
    let badRaw = try CLI.run(
      ["memparse", "--format", "json", "--raw", "--pid", "1", "busybox-sleep.tar"], in: Fixtures.root)
    #expect(badRaw.status == 1 && badRaw.stderr.hasPrefix("Error: --raw writes bytes"))
  }

  @Test func decodeDiffAndCoredump() throws {
    let decode = try parse(CLI.run(["decode", "busybox-sleep.tar:checkpoint/pstree.img"], in: Fixtures.root))
    #expect(decode.objectValue?["magic"] == .string("PSTREE"))
    let diff = try parse(
      CLI.run(["diff", "--format", "json", "busybox-diff-1.tar", "busybox-diff-2.tar"], in: Fixtures.root))
    #expect(diff.objectValue?["container_name"] == .string("fx-diff"))
    let directory = try TemporaryDirectory()
    let cores = try CLI.run(["coredump", "--format", "json", "-o", directory.path, Fixtures.path("raw/piggie")])
    let object = try #require(try parse(cores).objectValue)
    let written = (object["cores"]?.arrayValue ?? []).compactMap(\.objectValue)
    #expect(!written.isEmpty)
    for core in written {
      let path = try #require(core["path"]?.stringValue)
      #expect(FileManager.default.fileExists(atPath: path))
      #expect((core["size_on_disk"]?.integerValue ?? 0) > 0)
    }
    // raw/piggie has a zombie (pid 6): skipped with a note on stderr and in the JSON.
    #expect(object["skipped"]?.arrayValue?.count == 1)
    #expect(cores.stderr.hasPrefix("Note: "))
  }

  @Test func build() throws {
    let directory = try TemporaryDirectory()
    let table = try CLI.run(["build", Fixtures.path("busybox-sleep.tar"), "oci-archive:" + directory.file("a.tar")])
    #expect(table.status == 0, "\(table.stderr)")
    let digest = try #require(table.stdout.split(separator: "\n").last.map(String.init))
    let result = try CLI.run([
      "build", "--format", "json", Fixtures.path("busybox-sleep.tar"), "oci-archive:" + directory.file("b.tar"),
    ])
    let object = try #require(try parse(result).objectValue)
    #expect(object["digest"] == .string(digest))
    #expect(object["image"] == .string("oci-archive:" + directory.file("b.tar")))
    #expect(object["annotations"]?.objectValue?["org.criu.checkpoint.container.name"] == .string("fx-sleep"))
    #expect((object["layer_size"]?.integerValue ?? 0) > 0)
  }
}
