import Archive
import CRIU
import CheckpointKit
import Foundation
import Rendering
import SwiftProtobuf
import SystemSupport
import TestSupport
import Testing

@testable import Scan

/// `scan` in process, on the forensic fixture (MANIFEST.md, forensic-shared.tar) and on checkpoints made here,
/// its YARA matches compared with the `yara` command run on `memparse --raw` output of each VMA.
@Suite struct ScanTests {
  static let fixture = Fixtures.path("forensic-shared.tar")
  static let rules = Fixtures.path("forensic.yar")

  static func scan(
    _ path: String, rules: [String]? = [ScanTests.rules], pid: UInt32? = nil, limit: Int = 100
  ) throws -> ScanReport {
    try CheckpointScan.run(
      path: path, options: ScanOptions(rules: rules.map { try YaraRules(paths: $0) }, pid: pid, matchLimit: limit))
  }

  /// The fixture as a tar, compressed with zstd (memory scanned as it is decompressed) and as a directory.
  static func forms(in work: TemporaryDirectory) throws -> [String] {
    let zstd = work.file("forensic.tar.zst")
    try TestArchive.copy(fixture, to: zstd, compression: .zstd)
    let directory = work.file("forensic")
    try Path.makeDirectory(directory)
    try Tool.run("tar", ["-xf", fixture, "-C", directory])
    return [fixture, zstd, directory]
  }

  @Test func forensicFixtureFindingsAreTheManifests() throws {
    let work = try TemporaryDirectory()
    for path in try Self.forms(in: work) {
      let report = try Self.scan(path)
      #expect(
        report.findings.map { "\($0.pid) \($0.kind.rawValue) \($0.severity.rawValue)" } == [
          "1827 rwx-memory suspicious", "1830 executable-memfd suspicious", "1831 deleted-executable suspicious",
          "1832 loader-environment suspicious", "1833 listening-socket info", "1833 connection info",
          "1833 tcp-queue info", "1834 socket-stdio suspicious", "1834 connection info", "1834 tcp-queue info",
          "1835 socket-stdio suspicious", "1835 connection info",
        ], "\(path)")
      let byKind = Dictionary(grouping: report.findings, by: \.kind)
      let rwx = try #require(byKind[.rwxMemory]?.first)
      #expect(rwx.detail.hasPrefix("0x7e5a00000000-0x7e5a00002000 rwxp"))
      #expect(rwx.evidence.first?.address == 0x7e5a_0000_0000)
      #expect(rwx.evidence.first?.bytes?.starts(with: Array("FX_RWX_MARKER_1".utf8)) == true)
      let memfd = try #require(byKind[.executableMemfd]?.first)
      #expect(
        memfd.detail.contains("\"memfd:payload\"") && memfd.detail.hasPrefix("0x7feba9199000-0x7feba919a000 r-xp"))
      #expect(memfd.evidence.first?.bytes?.starts(with: [0x7F, 0x45, 0x4C, 0x46]) == true)
      let exe = try #require(byKind[.deletedExecutable]?.first)
      #expect(exe.detail.contains("/srv/fx/tmp-exe") && exe.evidence[0].text?.contains("ghost-file-1.img") == true)
      let preload = try #require(byKind[.loaderEnvironment]?.first)
      #expect(preload.evidence[0].text == "LD_PRELOAD=/srv/fx/libfake.so")
      #expect(preload.evidence[0].address == 0x7fff_6462_ffc7)
      #expect(preload.evidence[1].text == "0x7fe6bb596000-0x7fe6bb59b000")
      let stdio = try #require(byKind[.socketStdio])
      #expect(stdio.allSatisfy { $0.detail.contains("127.0.0.1:59494 -> 127.0.0.1:4444") })
      #expect(stdio.allSatisfy { $0.evidence.first?.text?.hasPrefix("pid 1833 (\"fx-listener\") fd 4") == true })
      #expect(byKind[.listeningSocket]?.first?.detail == "listens on TCP (LISTEN) 127.0.0.1:4444 (fd 3)")
      let queues = try #require(byKind[.tcpQueue])
      #expect(queues.map(\.images) == [["tcp-stream-960fa.img"], ["tcp-stream-959d4.img"]])
      #expect(queues.map { $0.evidence.first?.bytes ?? [] } == [Array("SENDQ".utf8), Array("QUEUE".utf8)])
      // The four matches of MANIFEST.md, nothing else (the copy at 0x7e5a00000ffc straddles two pages).
      #expect(
        report.yara.map {
          "\($0.match.rule) \($0.match.string) \($0.pid!) \(String($0.match.address, radix: 16)) \($0.vma) \($0.permissions)"
        }
          == [
            "fx_shared_text_marker $marker 1827 56163ac5d2a0 [heap] rw-p",
            "fx_shared_regex_url $url 1827 56163ac5d2b1 [heap] rw-p",
            "fx_shared_hex_syscall $code 1827 7e5a00000040 [anon] rwxp",
            "fx_shared_hex_syscall $code 1827 7e5a00000ffc [anon] rwxp",
          ], "\(path)")
      #expect(report.yara[0].match.data == Array("FX_YARA_MARKER_1 evil.example.com/payload".utf8))
      #expect(report.notes.isEmpty && report.alarms)
    }
  }

  @Test func onlyTheProcessAsked() throws {
    let report = try Self.scan(Self.fixture, pid: 1830)
    #expect(report.findings.map(\.kind) == [.executableMemfd])
    #expect(report.yara.isEmpty)
    #expect(throws: MemoryAnalysisError.noSuchProcess(4242)) { try Self.scan(Self.fixture, pid: 4242) }
  }

  /// busybox syslogd serves `/dev/log` (a named UNIX datagram socket) on its standard input: a server, not a
  /// reverse shell, and not a connection.
  @Test func aDatagramServerOnStandardInputIsNotAReverseShell() throws {
    let report = try Self.scan(Fixtures.path("busybox-diff-2.tar"), rules: nil)
    #expect(report.findings.map { "\($0.pid) \($0.kind.rawValue)" } == ["8 listening-socket", "15 listening-socket"])
    #expect(!report.alarms)
  }

  @Test func aCleanCheckpointHasNoFindings() throws {
    let report = try Self.scan(Fixtures.path("busybox-sleep.tar.zst"))
    #expect(report.findings.isEmpty && report.yara.isEmpty && !report.alarms)
  }

  /// Rewrites the image `name` of the directory's image folder, message by message.
  static func rewrite<M: SwiftProtobuf.Message>(
    _ directory: String, _ name: String, as type: M.Type, _ change: (inout [M]) -> Void
  ) throws {
    let path = directory + "/checkpoint/" + name
    var image = try ImageFile(decoding: try Files.read(path))
    var messages = image.messages(M.self)
    change(&messages)
    image.entries = messages.map { ImageEntry(message: $0) }
    try Files.write(try image.encoded(), to: path)
  }

  /// The indicators the fixture does not carry, planted in a copy of it: a parent outside the tree, a capability
  /// the tree's root lacks, executable (not writable) anonymous memory, a deleted library still mapped, LD_AUDIT.
  @Test func theOtherIndicators() throws {
    let work = try TemporaryDirectory()
    let directory = work.file("planted")
    try Path.makeDirectory(directory)
    try Tool.run("tar", ["-xf", Self.fixture, "-C", directory])
    try Self.rewrite(directory, "pstree.img", as: PstreeEntry.self) { entries in
      for index in entries.indices where entries[index].pid == 1835 { entries[index].ppid = 999 }
    }
    try Self.rewrite(directory, "core-1834.img", as: CoreEntry.self) { cores in
      cores[0].threadCore.creds.capEff = [0xFFFF_FFFF, 0x1FF]  // the root's lacks CAP_SYS_RESOURCE (24)
    }
    var anonymous: UInt64 = 0
    try Self.rewrite(directory, "mm-1832.img", as: MmEntry.self) { mms in
      let index = mms[0].vmas.firstIndex { $0.status == 0x201 && $0.prot == 3 }!
      mms[0].vmas[index].prot = 5
      anonymous = mms[0].vmas[index].start
    }
    try Self.rewrite(directory, "remap-fpath.img", as: RemapFilePathEntry.self) { remaps in
      var remap = RemapFilePathEntry()
      (remap.origID, remap.remapID, remap.remapType) = (15, 2, .linked)  // /srv/fx/libfake.so
      remaps.append(remap)
    }
    // The root's environment: FX_FIXTURE=forensic-shared becomes LD_AUDIT=… of the same length, in its pages.
    let pages = directory + "/checkpoint/pages-1.img"
    var bytes = try Files.read(pages)
    let old = Array("FX_FIXTURE=forensic-shared".utf8)
    let new = Array("LD_AUDIT=/srv/fx/audit.so1".utf8)
    let at = try #require((0...(bytes.count - old.count)).first { Array(bytes[$0..<$0 + old.count]) == old })
    bytes.replaceSubrange(at..<at + old.count, with: new)
    try Files.write(bytes, to: pages)

    let findings = try Self.scan(directory, rules: nil).findings.map { "\($0.pid) \($0.kind.rawValue): \($0.detail)" }
    #expect(findings.contains("1827 loader-environment: LD_AUDIT is set: \"LD_AUDIT=/srv/fx/audit.so1\""))
    #expect(findings.contains { $0.hasPrefix("1832 executable-anonymous-memory: \(hex(anonymous))-") })
    #expect(findings.contains("1832 deleted-mapped-file: maps deleted file \"/srv/fx/libfake.so\" (5 VMAs)"))
    #expect(
      findings.contains(
        "1834 extra-capabilities: runs as root with 1 effective capabilities beyond the 40 of the container's first process"
      ))
    #expect(findings.contains("1835 parent-outside-tree: parent pid 999 is not in the checkpoint's process tree"))
    #expect(findings.count == 12 + 5, "\(findings)")
  }

  /// Sockets shared by a forked child: each holder named as the peer; queues only where bytes wait in them.
  @Test func connectionsNameEveryHolderOfThePeer() throws {
    let report = try Self.scan(Fixtures.path("debian-net.tar.gz"), rules: nil)
    #expect(!report.alarms && report.findings.allSatisfy { $0.severity == .info })
    let queues = report.findings.filter { $0.kind == .tcpQueue }
    #expect(queues.map(\.images) == [["tcp-stream-14997.img"], ["tcp-stream-14998.img"]])
    #expect(
      queues[1].evidence.first.map { String(decoding: $0.bytes ?? [], as: UTF8.self) }?.contains("NETNEEDLE") == true)
    let loopback = report.findings.first { $0.pid == 1 && $0.detail.contains("127.0.0.1:42536 -> 127.0.0.1:8080") }
    #expect(
      loopback?.evidence.map(\.text) == [
        "pid 1 (\"python3\") fd 6: TCP (ESTABLISHED) 127.0.0.1:8080 -> 127.0.0.1:42536",
        "pid 6 (\"python3\") fd 6: TCP (ESTABLISHED) 127.0.0.1:8080 -> 127.0.0.1:42536",
      ])
  }

  /// Every VMA with pages, as `memparse --pid P --raw --address START-END` writes it, scanned by the `yara`
  /// command: its matches, offsets translated to addresses through the VMA's runs of dumped pages.
  static func yaraCommandMatches(_ path: String, rules: String, in work: TemporaryDirectory) throws -> Set<String> {
    let source = try CheckpointSource(path: path, selection: MemorySelection.memory)
    var result: Set<String> = []
    for process in try source.processes() where process.state.hasResources {
      for (vma, runs) in MemoryWalk.pieces(try source.memory(pid: process.pid)) {
        let raw = work.file("vma-\(process.pid)-\(String(vma.start, radix: 16)).raw")
        let window = "\(String(vma.start, radix: 16))-\(String(vma.end, radix: 16))"
        let dump = try CLI.run([
          "memparse", "--pid", String(process.pid), "--raw", "--address", window, "-o", raw, path,
        ])
        #expect(dump.status == 0, "\(dump.stderr)")
        let output = try Tool.run("yara", ["-s", rules, raw])
        var rule = ""
        for line in output.split(separator: "\n") {
          if !line.hasPrefix("0x") {
            rule = String(line.split(separator: " ")[0])
            continue
          }
          let parts = line.split(separator: ":", maxSplits: 2)
          var offset = try #require(UInt64(parts[0].dropFirst(2), radix: 16))
          var address: UInt64 = 0
          for run in runs {
            let length = run.upperBound - run.lowerBound
            if offset < length {
              address = run.lowerBound + offset
              break
            }
            offset -= length
          }
          result.insert("\(process.pid) \(rule) \(parts[1]) \(String(address, radix: 16))")
        }
      }
    }
    return result
  }

  static func ours(_ report: ScanReport) -> Set<String> {
    Set(report.yara.map { "\($0.pid!) \($0.match.rule) \($0.match.string) \(String($0.match.address, radix: 16))" })
  }

  @Test func theYaraCommandAgreesOnTheFixture() throws {
    let work = try TemporaryDirectory()
    let expected = try Self.yaraCommandMatches(Self.fixture, rules: Self.rules, in: work)
    #expect(expected.count == 4)
    #expect(Self.ours(try Self.scan(Self.fixture)) == expected)
  }

  /// A process with a 9 MiB anonymous VMA read in blocks of 4 MiB + 64 KiB: markers across the first block
  /// boundary, at the edges of the overlap, twice inside it (each reported once: a rule counting them sees 5),
  /// and in a second VMA right after the first (separate scans: a string across the two is not one match).
  static func bigProcess(in work: TemporaryDirectory, compression: ArchiveFilter) throws -> String {
    let kinds: (String) throws -> ImageKind = { try #require(ImageKind.named($0)) }
    let size = 9 << 20
    var pages = [UInt8](repeating: 0x41, count: size + 4096)
    let marker = Array("MARK-0123456789".utf8)
    let chunk = MemoryWalk.chunk
    let overlap = MemoryWalk.overlap
    for offset in [chunk - 7, chunk - overlap - 20, chunk - overlap, chunk - 20_000, 2 * chunk - 1, size - 8] {
      pages.replaceSubrange(offset..<offset + marker.count, with: marker)
    }
    var pstree = PstreeEntry()
    pstree.pid = 7
    var core = CoreEntry()
    core.tc.taskState = 1
    core.tc.comm = "big"
    var first = VmaEntry()
    (first.start, first.end, first.prot, first.status, first.flags) = (
      0x10_0000_0000, 0x10_0000_0000 + UInt64(size), 3, 0x201, 0x22
    )
    var second = first
    (second.start, second.end) = (first.end, first.end + 4096)
    var mm = MmEntry()
    mm.vmas = [first, second]
    var head = PagemapHead()
    head.pagesID = 1
    var entry = PagemapEntry()
    entry.vaddr = first.start
    entry.nrPages = UInt64(pages.count / 4096)
    entry.flags = 4
    var members: [TestArchive.Member] = [.directory("checkpoint/")]
    for (name, image) in [
      ("core-7.img", try ImageFile(kind: kinds("CORE"), entries: [ImageEntry(message: core)])),
      ("mm-7.img", try ImageFile(kind: kinds("MM"), entries: [ImageEntry(message: mm)])),
      ("pagemap-7.img", try ImageFile(kind: kinds("PAGEMAP"), head: head, entries: [ImageEntry(message: entry)])),
    ] {
      members.append(.file("checkpoint/" + name, try image.encoded()))
    }
    members.append(.file("checkpoint/pages-1.img", pages))
    members.append(
      .file(
        "checkpoint/pstree.img", try ImageFile(kind: kinds("PSTREE"), entries: [ImageEntry(message: pstree)]).encoded())
    )
    let path = work.file("big-\(compression.name).tar")
    try TestArchive.write(members, to: path, compression: compression)
    try Files.write(
      Array(
        """
        rule marker { strings: $m = "MARK-0123456789" condition: $m }
        rule five { strings: $m = "MARK-0123456789" condition: #m == 5 }
        rule across { strings: $a = "789AAAA" condition: $a }
        """.utf8), to: work.file("big.yar"))
    return path
  }

  @Test(arguments: [ArchiveFilter.none, .zstd])
  func blocksOverlapAndTheYaraCommandAgrees(_ compression: ArchiveFilter) throws {
    let work = try TemporaryDirectory()
    let path = try Self.bigProcess(in: work, compression: compression)
    let report = try Self.scan(path, rules: [work.file("big.yar")])
    let base: UInt64 = 0x10_0000_0000
    let chunk = UInt64(MemoryWalk.chunk)
    let overlap = UInt64(MemoryWalk.overlap)
    let markers = [chunk - overlap - 20, chunk - overlap, chunk - 20_000, chunk - 7, 2 * chunk - 1].map { base + $0 }
    #expect(report.yara.filter { $0.match.rule == "marker" }.map(\.match.address) == markers)
    #expect(report.yara.filter { $0.match.rule == "five" }.count == 5)
    // The last marker runs past the end of the first VMA: found by neither scan.
    #expect(!report.yara.contains { $0.match.address == base + (9 << 20) - 8 })
    #expect(Self.ours(report) == (try Self.yaraCommandMatches(path, rules: work.file("big.yar"), in: work)))
  }

  /// The memfd's page (in `pagemap-shmem-119.img`, not in the process's pagemap) and the changed files of
  /// `rootfs-diff.tar` are scanned too; `--pid` leaves the files out.
  @Test func memfdPagesAndChangedFilesAreScanned() throws {
    let work = try TemporaryDirectory()
    try Files.write(
      Array(
        """
        rule memfd_payload { strings: $p = "FX_MEMFD_PAYLOAD_1" condition: $p }
        rule preload_conf : persistence { strings: $l = "/srv/fx/libfake.so" condition: $l and filesize < 100 }
        """.utf8), to: work.file("more.yar"))
    var rootfs: [TestArchive.Member] = [
      .directory("etc/"), .file("etc/ld.so.preload", Array("/srv/fx/libfake.so\n".utf8)),
      .file("etc/hostname", Array("fx\n".utf8)),
    ]
    rootfs.append(.file("big.bin", [UInt8](repeating: 0, count: 200) + Array("/srv/fx/libfake.so".utf8)))
    try TestArchive.write(rootfs, to: work.file("rootfs-diff.tar"))
    let path = work.file("with-rootfs.tar.zst")
    try TestArchive.copy(
      Self.fixture, to: path, compression: .zstd,
      extra: [.file("rootfs-diff.tar", try Files.read(work.file("rootfs-diff.tar")))])
    let report = try Self.scan(path, rules: [work.file("more.yar")])
    let memfd = report.yara.filter { $0.match.rule == "memfd_payload" }
    #expect(
      memfd.map { "\($0.pid!) \(String($0.match.address, radix: 16)) \($0.vma) \($0.permissions)" } == [
        "1830 7feba9199081 [memfd] r-xp"
      ])
    // The library's path is in the environment of 1832 (memory) and in the small file: filesize is the file's.
    let files = report.yara.filter { $0.file != nil }
    #expect(
      files.map { "\($0.file!) \($0.match.address) \($0.match.tags)" } == ["/etc/ld.so.preload 0 [\"persistence\"]"])
    #expect(report.yara.contains { $0.pid == 1832 && $0.match.rule == "preload_conf" } == false)
    let only = try Self.scan(path, rules: [work.file("more.yar")], pid: 1830)
    #expect(only.yara.map(\.match.rule) == ["memfd_payload"])
  }

  @Test func rulesThatDoNotCompileNameTheFileAndLine() throws {
    let work = try TemporaryDirectory()
    try Files.write(
      Array("rule ok { condition: true }\n\nrule broken { strings: $a = \"x\" condition: $b }\n".utf8),
      to: work.file("bad.yar"))
    #expect(throws: ScanError.self) { try YaraRules(paths: [work.file("bad.yar")]) }
    do {
      _ = try YaraRules(paths: [work.file("bad.yar")])
    } catch {
      #expect("\(error)".contains("bad.yar\", line 3: "), "\(error)")
    }
    try Files.write(pseudoRandomBytes(count: 4096), to: work.file("random.yar"))
    #expect(throws: ScanError.self) { try YaraRules(paths: [work.file("random.yar")]) }
    #expect(throws: ScanError.self) { try YaraRules(paths: [work.file("missing.yar")]) }
    try Path.makeDirectory(work.file("empty"))
    #expect(throws: ScanError.rules("no rule files (*.yar, *.yara) in \"\(work.file("empty"))\"")) {
      try YaraRules(paths: [work.file("empty")])
    }
  }

  @Test func aDirectoryGivesEveryRuleFile() throws {
    let work = try TemporaryDirectory()
    try Path.makeDirectory(work.file("rules"))
    try Files.write(Array(try Files.read(Self.rules)), to: work.file("rules/a.yar"))
    try Files.write(
      Array("rule tagged : evil memory { strings: $s = \"SENDQ\" condition: $s }\n".utf8), to: work.file("rules/b.yara")
    )
    try Files.write(Array("not a rule".utf8), to: work.file("rules/readme.txt"))
    let rules = try YaraRules(paths: [work.file("rules")])
    #expect(rules.files.map { Path.base(of: $0) } == ["a.yar", "b.yara"])
    let report = try CheckpointScan.run(path: Self.fixture, options: ScanOptions(rules: rules))
    let tagged = report.yara.filter { $0.match.rule == "tagged" }
    // `SENDQ` is a literal in the read-only pages of every fxforensic-based process (MANIFEST.md).
    #expect(!tagged.isEmpty && tagged.allSatisfy { $0.match.tags == ["evil", "memory"] })
  }

  @Test func aRuleMatchingEverywhereIsCutAndSaysSo() throws {
    let work = try TemporaryDirectory()
    try Files.write(Array("rule everywhere { strings: $cc = { CC } condition: $cc }\n".utf8), to: work.file("cc.yar"))
    let report = try Self.scan(Self.fixture, rules: [work.file("cc.yar")], limit: 5)
    #expect(report.yara.count == 5)
    // The first five in pid and address order, whichever order the archive brings the processes in.
    let zstd = work.file("forensic.tar.zst")
    try TestArchive.copy(Self.fixture, to: zstd, compression: .zstd)
    let streamed = try Self.scan(zstd, rules: [work.file("cc.yar")], limit: 5)
    #expect(streamed.yara == report.yara)
    #expect(streamed.notes.map { $0.replacing(zstd, with: Self.fixture) } == report.notes)
    #expect(report.yara.map { $0.pid! } == report.yara.map { $0.pid! }.sorted())
    // libyara's own warning first (a one-byte string is slow), then the cut.
    #expect(report.notes.count == 2 && report.notes[0].contains("cc.yar\", line 1: string \"$cc\" may slow down"))
    let all = try Self.yaraCommandMatches(Self.fixture, rules: work.file("cc.yar"), in: work).count
    #expect(all > 8000)
    #expect(report.notes[1].hasSuffix("rule \"everywhere\": \(all - 5) more matches not shown (at most 5 a rule)"))
  }

  @Test func aLargeRuleSetCompilesAndScans() throws {
    let work = try TemporaryDirectory()
    let text = (0..<3000).map { "rule r\($0) { strings: $s = \"needle-\($0)-x\" condition: $s }\n" }.joined()
    try Files.write(Array(text.utf8), to: work.file("many.yar"))
    let report = try Self.scan(Self.fixture, rules: [work.file("many.yar"), Self.rules])
    #expect(report.yara.count == 4)
  }
}
