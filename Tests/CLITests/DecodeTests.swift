import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct DecodeTests {
  @Test func decodesAnImageInsideAnArchiveLikeCrit() throws {
    let result = try CLI.run(["decode", Fixtures.path("busybox-ptree.tar") + ":checkpoint/pstree.img"])
    #expect(result.status == 0, "\(result.stderr)")
    let document = try JSONValue(parsing: result.stdoutBytes)
    #expect(document.objectValue?["magic"] == .string("PSTREE"))
    let entries = try #require(document.objectValue?["entries"]?.arrayValue)
    #expect(entries.count == 7)
    #expect(entries[0].objectValue?["pid"] == .integer(1))
    #expect(entries[0].objectValue?["threads"] == .array([.integer(1)]))
  }

  /// `decode /dev/stdin`, `decode <(…)`: an image or `ARCHIVE:member` read once, in order, from a pipe.
  /// A path that exists wins over the transport it looks like (`dir:`, `docker:`, `oci:` are directory names
  /// too).
  @Test(arguments: ["dir:backup", "docker:x", "oci:y"])
  func anExistingArchivePathIsNotAnImageReference(_ directoryName: String) throws {
    let directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.file(directoryName), withIntermediateDirectories: true)
    let archive = directory.file(directoryName + "/a.tar")
    try Tool.run("cp", [Fixtures.path("busybox-ptree.tar"), archive])
    let result = try CLI.run(["decode", directoryName + "/a.tar:checkpoint/pstree.img"], in: directory.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == (try CLI.run(["decode", archive + ":checkpoint/pstree.img"])).stdout)
  }

  @Test func decodesFromPipes() throws {
    let directory = try TemporaryDirectory()
    let member = "checkpoint/pstree.img"
    let expected = try CLI.run(["decode", Fixtures.path("busybox-ptree.tar") + ":" + member])
    let image = try CheckpointSource(path: Fixtures.path("busybox-ptree.tar")).bytes(of: member)
    _ = try Files.fifo(named: "image", in: directory, feeding: image)
    let fromImage = try CLI.run(["decode", "image"], in: directory.path)
    #expect(fromImage.status == 0, "\(fromImage.stderr)")
    #expect(fromImage.stdout == expected.stdout)
    for fixture in ["busybox-ptree.tar", "busybox-sleep.tar.zst"] {
      let pipe = try Files.fifo(named: "archive", in: directory, feeding: try Files.read(Fixtures.path(fixture)))
      let fromArchive = try CLI.run(["decode", "archive:" + member], in: directory.path)
      let direct = try CLI.run(["decode", Fixtures.path(fixture) + ":" + member])
      #expect(fromArchive.status == 0, "\(fromArchive.stderr)")
      #expect(fromArchive.stdout == direct.stdout)
      unlink(pipe)
    }
    // A whole archive cannot be listed from a pipe: one error line naming it.
    _ = try Files.fifo(named: "listing", in: directory, feeding: try Files.read(Fixtures.path("busybox-ptree.tar")))
    let listing = try CLI.run(["decode", "listing"], in: directory.path)
    #expect(listing.status == 1)
    #expect(
      listing.stderr
        == "Error: listing is not a CRIU image (checkpoints are listed only from a file or a directory)\n")
    #expect(listing.stdout == "")
  }

  @Test func encodeRebuildsTheImageByteForByte() throws {
    let directory = try TemporaryDirectory()
    for name in ["core-1.img", "mm-1.img", "pagemap-1.img", "files.img", "inventory.img"] {
      let decoded = try CLI.run(["decode", Fixtures.path("busybox-needle.tar") + ":checkpoint/" + name])
      #expect(decoded.status == 0)
      try Files.write(decoded.stdoutBytes, to: directory.file(name + ".json"))
      let encoded = try CLI.run(["encode", "-i", directory.file(name + ".json"), "-o", directory.file(name)])
      #expect(encoded.status == 0, "\(encoded.stderr)")
      #expect(Files.permissions(directory.file(name)) == 0o600)
      let original = try CheckpointSource(path: Fixtures.path("busybox-needle.tar")).bytes(of: "checkpoint/" + name)
      #expect(try Files.read(directory.file(name)) == original, "\(name)")
    }
  }

  @Test func listsTheImagesOfArchivesAndDirectories() throws {
    let archive = try CLI.run(["decode", Fixtures.path("busybox-shm.tar.gz")])
    #expect(archive.status == 0)
    #expect(archive.stdout.hasPrefix("IMAGE "))
    #expect(archive.stdout.contains("pagemap-shmem-1260.img    PAGEMAP               1         27\n"))
    #expect(archive.stdout.contains("pages-1.img               raw (pages)           -         1048576\n"))
    let directory = try CLI.run(["decode", Fixtures.path("raw/piggie")])
    #expect(directory.status == 0)
    #expect(directory.stdout.contains("tcp-stream-4f810.img"))
    #expect(directory.stdout.contains("raw (iptables)"))
    #expect(directory.stdout == (try Fixtures.golden("decode/piggie.txt", actual: directory.stdout)))
  }

  @Test func rawImagesReportKindAndSize() throws {
    let result = try CLI.run(["decode", Fixtures.path("raw/piggie/pages-1.img")])
    #expect(result.status == 0)
    let report = try JSONValue(parsing: result.stdoutBytes)
    #expect(report.objectValue?["raw"] == .string("pages"))
    #expect(report.objectValue?["size"]?.integerValue ?? 0 > 0)
  }

  /// `--pretty` is crit's: flag names, hex, one-element address arrays, quoted-printable unix socket names,
  /// crit's table names, and payloads as `base64.encodebytes` text.
  @Test func prettyRendersLikeCrit() throws {
    let mm = try CLI.run(["decode", "--pretty", Fixtures.path("busybox-sleep.tar") + ":checkpoint/mm-1.img"])
    #expect(mm.status == 0)
    #expect(mm.stdout.contains(#""prot": "PROT_READ | PROT_EXEC""#))
    #expect(mm.stdout.contains(#""start": "0x"#))
    #expect(mm.stdout.contains(#""status": "VMA_AREA_REGULAR | VMA_FILE_PRIVATE""#))
    let files = try CLI.run(["decode", "--pretty", Fixtures.path("debian-net.tar.gz") + ":checkpoint/files.img"])
    #expect(files.stdout.contains("\"src_addr\": [\n                    \"127.0.0.1\"\n                ]"))
    #expect(files.stdout.contains("\"src_addr\": [\n                    \"::\"\n                ]"))
    #expect(files.stdout.contains(#""name": "=00fx-abstract-dgram""#))
    #expect(files.stdout.contains(#""name": "/tmp/fx.sock=00""#))
    #expect(files.stdout.contains(#""state": "LISTEN""#))
    #expect(files.stdout.contains(#""family": "INET6""#))
    let core = try CLI.run(["decode", "--pretty", Fixtures.path("busybox-sleep.tar") + ":checkpoint/core-1.img"])
    #expect(core.stdout.contains(#""task_state": "Alive""#))
    #expect(core.stdout.contains(#""usable": false"#))
    let pagemap = try CLI.run(["decode", "--pretty", Fixtures.path("busybox-sleep.tar") + ":checkpoint/pagemap-1.img"])
    #expect(pagemap.stdout.contains(#""flags": "PE_LAZY | PE_PRESENT""#))
    #expect(pagemap.stdout.contains(#""vaddr": "0x401000""#))
    let stream = try CLI.run([
      "decode", "--pretty", Fixtures.path("debian-net.tar.gz") + ":checkpoint/tcp-stream-14997.img",
    ])
    #expect(stream.stdout.contains(#""inq": "c2VydmVyLT5jbGllbnQgdW5yZWFkIGJ5dGVzCg==\n""#))
  }

  /// Through the binary: `decode --pretty` prints crit 4.2's text byte for byte, and `encode` of that text
  /// rebuilds the image byte for byte (every image is checked in-process by CritReferenceTests).
  @Test(arguments: [
    ("busybox-sleep.tar", "busybox-sleep", "core-1.img"), ("debian-net.tar.gz", "debian-net", "files.img"),
    ("debian-net.tar.gz", "debian-net", "tcp-stream-14997.img"), ("busybox-tty.tar", "busybox-tty", "tty-info.img"),
    ("busybox-shm.tar.gz", "busybox-shm", "mm-1.img"), ("busybox-ptree.tar", "busybox-ptree", "fifo-data.img"),
  ])
  func prettyAndEncodeMatchCritThroughTheBinary(_ archive: String, _ stem: String, _ image: String) throws {
    let reference = Fixtures.path("crit/\(stem)/\(image).json")
    let decoded = try CLI.run(["decode", "--pretty", Fixtures.path(archive) + ":checkpoint/" + image])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    #expect(decoded.stdoutBytes == (try Files.read(reference)), "\(stem)/\(image)")
    let encoded = try CLI.run(["encode", "-i", reference, "-o", "-"])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    let original = try CheckpointSource(path: Fixtures.path(archive)).bytes(of: "checkpoint/" + image)
    #expect(encoded.stdoutBytes == original, "\(stem)/\(image)")
  }

  @Test func encodeRefusesOutOfRangeNumbersWithOneErrorLine() throws {
    let directory = try TemporaryDirectory()
    let cases = [
      (#"{"magic": "PSTREE", "entries": [{"pid": 18446744073709551616}]}"#, "entries[0].pid: "),
      (#"{"magic": "PSTREE", "entries": [{"pid": 1.5}]}"#, "entries[0].pid: 1.5 is not an integer"),
      (#"{"magic": "MM", "entries": [{"vmas": [{"start": "0x1ffffffffffffffff"}]}]}"#, "entries[0].vmas[0].start: "),
    ]
    for (json, message) in cases {
      try Files.write(Array(json.utf8), to: directory.file("in.json"))
      let result = try CLI.run(["encode", "-i", "in.json", "-o", "out.img"], in: directory.path)
      #expect(result.status == 1)
      #expect(!result.signaled)
      #expect(result.stderr.hasPrefix("Error: in.json: invalid image JSON"), "\(result.stderr)")
      #expect(result.stderr.contains(message), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: directory.file("out.img")))
    }
  }

  @Test(arguments: [
    (["decode", "nope.img"], "stat nope.img: no such file or directory"),
    (["decode", "notanimage"], "notanimage"),
    (["decode", "badmagic.img"], "unknown magic"),
    (["decode", "cut.img"], "cut.img: "),
    (["encode", "-i", "bad.json", "-o", "out.img"], "bad.json: invalid image JSON"),
    (["encode", "-i", "unknown.json", "-o", "out.img"], "unknown magic \"NOPE\""),
    (["decode", "empty.tar"], "checkpoint directory is missing in the archive file: empty.tar"),
  ])
  func badInputIsOneErrorLine(_ arguments: [String], _ message: String) throws {
    let directory = try TemporaryDirectory()
    try Files.write(Array("just some text that is not an image".utf8), to: directory.file("notanimage"))
    try Files.write([0x19, 0x43, 0x56, 0x54, 1, 2, 3, 4, 0, 0, 0, 0], to: directory.file("badmagic.img"))
    let core = try CheckpointSource(path: Fixtures.path("busybox-sleep.tar")).bytes(of: "checkpoint/core-1.img")
    try Files.write(Array(core[0..<100]), to: directory.file("cut.img"))
    try Files.write(Array("{".utf8), to: directory.file("bad.json"))
    try Files.write(Array(#"{"magic": "NOPE", "entries": []}"#.utf8), to: directory.file("unknown.json"))
    try Files.write([], to: directory.file("empty.tar"))
    let result = try CLI.run(arguments, in: directory.path)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory.file("out.img")))
  }
}
