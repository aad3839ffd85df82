import Foundation
import Glibc
import TestSupport
import Testing

/// `coredump`, checked with the real tools: gdb loads every core, and readelf reads it without complaint.
@Suite struct CoreDumpTests {
  static let fixtures = [
    "busybox-sleep.tar", "busybox-sleep.tar.gz", "busybox-sleep.tar.zst", "busybox-sleep-default-compress.tar",
    "busybox-ptree.tar", "debian-net.tar.gz", "busybox-diff-1.tar", "busybox-diff-2.tar", "busybox-needle.tar",
    "busybox-in-pod.tar", "busybox-tty.tar", "busybox-memhog64.tar.zst", "busybox-shm.tar.gz", "raw/piggie",
  ]

  /// gdb's warnings that mean a malformed core; the only warning allowed is about files absent on this host.
  static let forbidden = ["segment extending past end of file", "malformed note", "Unexpected size of section"]

  /// Runs gdb in batch mode on `core` with `commands`.
  static func gdb(_ core: String, _ commands: [String]) throws -> String {
    try Tool.runMerged("gdb", ["-nx", "-batch"] + commands.flatMap { ["-ex", $0] } + ["-c", core]).output
  }

  /// The registers CRIU saved for thread `tid` (decoded by `checkpointctl decode`).
  static func savedRegisters(_ fixture: String, tid: UInt32) throws -> [String: UInt64] {
    let image = fixture.hasPrefix("raw/") ? "\(fixture)/core-\(tid).img" : "\(fixture):checkpoint/core-\(tid).img"
    let decoded = try CLI.run(["decode", image], in: Fixtures.root)
    let json = try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8)) as? [String: Any]
    let entry = try #require((json?["entries"] as? [[String: Any]])?.first)
    let gpregs = try #require((entry["thread_info"] as? [String: Any])?["gpregs"] as? [String: Any])
    var result: [String: UInt64] = [:]
    for (gdbName, criuName) in [("rip", "ip"), ("rsp", "sp"), ("rbp", "bp"), ("fs_base", "fs_base")] {
      result[gdbName] = (gpregs[criuName] as? NSNumber)?.uint64Value
    }
    return result
  }

  /// `info registers` lines → register → value.
  static func registers(in output: String) -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    for line in output.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 2, fields[1].hasPrefix("0x"), let value = UInt64(fields[1].dropFirst(2), radix: 16)
      else { continue }
      result[String(fields[0])] = value
    }
    return result
  }

  /// The pids of the cores written into `directory`.
  static func corePids(_ directory: TemporaryDirectory) throws -> [UInt32] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).compactMap {
      $0.hasPrefix("core.") ? UInt32($0.dropFirst(5)) : nil
    }.sorted()
  }

  @Test(arguments: fixtures)
  func gdbLoadsEveryCoreWithSavedRegisters(_ fixture: String) throws {
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-o", output.path, fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let pids = try Self.corePids(output)
    #expect(!pids.isEmpty)
    for pid in pids {
      let core = output.file("core.\(pid)")
      #expect(Files.permissions(core) == 0o600)
      #expect(result.stdout.contains("\(core): pid \(pid) ("))
      let text = try Self.gdb(core, ["info threads", "info registers rip rsp rbp fs_base", "info proc mappings"])
      for warning in Self.forbidden { #expect(!text.contains(warning), "\(fixture) core.\(pid): \(text)") }
      for line in text.split(separator: "\n") where line.contains("warning:") {
        #expect(line.contains("during file-backed mapping note processing"), "\(fixture) core.\(pid): \(line)")
      }
      #expect(text.contains("* 1    LWP \(pid) "), "\(text)")
      let saved = try Self.savedRegisters(fixture, tid: pid)
      let shown = Self.registers(in: text)
      for name in ["rip", "rsp", "rbp", "fs_base"] {
        #expect(shown[name] != nil && shown[name] == saved[name], "\(fixture) core.\(pid) \(name)")
      }
      #expect(text.contains("Mapped address spaces:"), "\(text)")
      let readelf = try Tool.runMerged("readelf", ["-a", "-W", core])
      #expect(readelf.status == 0)
      #expect(!readelf.output.contains("readelf: Error"), "\(readelf.output.prefix(2000))")
      #expect(!readelf.output.contains("readelf: Warning"), "\(readelf.output.prefix(2000))")
      #expect(readelf.output.contains("CORE (Core file)"))
    }
  }

  struct Needle: Sendable, CustomTestStringConvertible {
    var fixture: String
    var pid: UInt32
    var address: UInt64
    var text: String
    var testDescription: String { "\(fixture) pid \(pid) \(text)" }
  }

  // Addresses from the fixtures' MANIFEST.md.
  static let needles = [
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x25bf_db10, text: "MEMPARSE_NEEDLE_7f3a9c_exported"),
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x25bf_e902, text: "MEMPARSE_NEEDLE_7f3a9c_shellvar"),
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x7ffe_b30c_df91, text: "MEMPARSE_NEEDLE_7f3a9c_env"),
    Needle(fixture: "busybox-needle.tar", pid: 7, address: 0x7ffd_b388_5f6d, text: "MEMPARSE_NEEDLE_7f3a9c_exported"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_53b2_3456, text: "MEMHOG_NEEDLE_mid_7f3a9c"),
    // Crosses the page boundary at 0x7fdb53de8000.
    Needle(
      fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_53de_7ff6, text: "MEMHOG_NEEDLE_straddle_7f3a9c"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_579f_ffc0, text: "MEMHOG_NEEDLE_tail_7f3a9c"),
    // Anonymous shared memory: only in pagemap-shmem, in both processes.
    Needle(fixture: "busybox-shm.tar.gz", pid: 1, address: 0x7fe5_a598_6000, text: "SHMEM_ANON_NEEDLE_7f3a9c"),
    Needle(fixture: "busybox-shm.tar.gz", pid: 6, address: 0x7fe5_a598_6000, text: "SHMEM_ANON_NEEDLE_7f3a9c"),
    // A MAP_SHARED file of /dev/shm: from devshm-checkpoint.tar.
    Needle(fixture: "busybox-shm.tar.gz", pid: 1, address: 0x7fe5_a594_4100, text: "SHMEM_POSIX_NEEDLE_7f3a9c"),
    Needle(fixture: "busybox-shm.tar.gz", pid: 6, address: 0x7fe5_a593_4010, text: "PRIVATE_NEEDLE_7f3a9c"),
    Needle(fixture: "busybox-ptree.tar", pid: 9, address: 0x7ffe_62d9_af6b, text: "hunter2"),
    Needle(fixture: "debian-net.tar.gz", pid: 6, address: 0x7f99_ef00_e94e, text: "NETNEEDLE_tcp_inflight_51c2"),
  ]

  @Test(arguments: needles)
  func gdbReadsTheNeedles(_ needle: Needle) throws {
    let output = try TemporaryDirectory()
    let result = try CLI.run(
      ["coredump", "--pid", "\(needle.pid)", "-o", output.path, needle.fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let text = try Self.gdb(output.file("core.\(needle.pid)"), ["x/s 0x\(String(needle.address, radix: 16))"])
    #expect(text.contains("0x\(String(needle.address, radix: 16)):\t\"\(needle.text)"), "\(text)")
  }

  @Test(arguments: [
    ("busybox-shm.tar.gz", 1, ["/shmhog", "/dev/shm/fx-posix-shm"]),
    ("busybox-sleep.tar", 1, ["/bin/busybox"]),
    ("raw/piggie", 4, ["/srv/fx/piggie", "/usr/lib/x86_64-linux-gnu/libc.so.6"]),
  ])
  func mappingsListTheMappedFiles(_ fixture: String, _ pid: Int, _ files: [String]) throws {
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-p", "\(pid)", "-o", output.path, fixture], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    let text = try Self.gdb(output.file("core.\(pid)"), ["info proc mappings"])
    for file in files { #expect(text.contains(" \(file)\n"), "\(text)") }
  }

  @Test func summaryNamesBuildIDsAndZombiesAreSkipped() throws {
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-o", output.path, "raw/piggie"], in: Fixtures.root)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try Self.corePids(output) == [1, 4, 5, 7, 8, 9])
    #expect(result.stderr.contains("process 6 (piggie-zombie) is a zombie"))
    #expect(result.stdout.contains("core.7: pid 7 (stopped-child), 1 thread, "))
    #expect(result.stdout.contains("  build-id b4bffb4b1d2fbb00a55d3c66cc0ed0e9d6f9c0cf /srv/fx/piggie\n"))
    // NT_PRPSINFO carries the command line read from memory.
    let text = try Self.gdb(output.file("core.1"), ["info threads"])
    #expect(text.contains("Core was generated by `./piggie --tcp-socket --zombie'."), "\(text)")
  }

  /// The pages of a compressed archive go straight into the cores: the same cores as from the plain archive,
  /// and gdb finds the needles in them.
  @Test func aCompressedCopyGivesTheCoresOfThePlainArchive() throws {
    let work = try TemporaryDirectory()
    let members = try TestArchive.read(Fixtures.path("busybox-needle.tar")).compactMap {
      entry, bytes -> TestArchive.Member? in
      switch entry.kind {
      case .directory: return .directory(entry.path)
      case .regular: return .file(entry.path, bytes)
      default: return nil
      }
    }
    let packed = work.file("needle.tar.zst")
    try TestArchive.write(members, to: packed, compression: .zstd)
    for (input, output) in [(Fixtures.path("busybox-needle.tar"), "plain"), (packed, "zstd")] {
      let result = try CLI.run(["coredump", "-o", work.file(output), input])
      #expect(result.status == 0, "\(result.stderr)")
    }
    for name in ["core.1", "core.7"] {
      #expect(try Files.read(work.file("zstd/" + name)) == (try Files.read(work.file("plain/" + name))), "\(name)")
      #expect(Files.permissions(work.file("zstd/" + name)) == 0o600)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: work.file("zstd")).sorted() == ["core.1", "core.7"])
    let text = try Self.gdb(work.file("zstd/core.1"), ["x/s 0x25bfdb10"])
    #expect(text.contains("0x25bfdb10:\t\"MEMPARSE_NEEDLE_7f3a9c_exported"), "\(text)")
  }

  @Test func zombieAndUnknownPidsAreErrors() throws {
    let output = try TemporaryDirectory()
    let zombie = try CLI.run(["coredump", "--pid", "6", "-o", output.path, "raw/piggie"], in: Fixtures.root)
    #expect(zombie.status == 1)
    #expect(
      zombie.stderr == "Error: raw/piggie: process 6 is a zombie: it has no memory, so there is no core to write\n")
    let unknown = try CLI.run(["coredump", "--pid", "99", "-o", output.path, "raw/piggie"], in: Fixtures.root)
    #expect(unknown.status == 1)
    #expect(unknown.stderr.hasPrefix("Error: raw/piggie: no process with PID 99"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
  }

  @Test func existingCoreNeedsForce() throws {
    let output = try TemporaryDirectory()
    try Files.write(Array("keep".utf8), to: output.file("core.1"))
    let refused = try CLI.run(["coredump", "-o", output.path, "busybox-sleep.tar"], in: Fixtures.root)
    #expect(refused.status == 1)
    #expect(refused.stderr == "Error: \(output.file("core.1")) already exists (use --force to replace it)\n")
    #expect(try Files.read(output.file("core.1")) == Array("keep".utf8))
    let forced = try CLI.run(["coredump", "--force", "-o", output.path, "busybox-sleep.tar"], in: Fixtures.root)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(try Files.read(output.file("core.1")).prefix(4) == [0x7f, 0x45, 0x4c, 0x46])
    #expect(try FileManager.default.contentsOfDirectory(atPath: output.path) == ["core.1"])
  }

  /// A copy of raw/piggie to edit with `decode` and `encode`.
  static func piggieCopy(_ directory: TemporaryDirectory) throws -> String {
    let copy = directory.file("piggie")
    try Files.copyTree(Fixtures.path("raw/piggie"), to: copy)
    return copy
  }

  /// Rewrites image `name` of `directory` through decode → edit → encode.
  static func edit(_ directory: String, _ name: String, _ change: (inout [String: Any]) throws -> Void) throws {
    let decoded = try CLI.run(["decode", directory + "/" + name])
    var json = try #require(try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8)) as? [String: Any])
    try change(&json)
    let input = directory + "/." + name + ".json"
    try Data(try JSONSerialization.data(withJSONObject: json)).write(to: URL(fileURLWithPath: input))
    let encoded = try CLI.run(["encode", "-i", input, "-o", directory + "/" + name])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    try FileManager.default.removeItem(atPath: input)
  }

  @Test func everyThreadIsShownWithItsRegisters() throws {
    let work = try TemporaryDirectory()
    let images = try Self.piggieCopy(work)
    try FileManager.default.copyItem(atPath: images + "/core-1.img", toPath: images + "/core-100.img")
    try Self.edit(images, "core-100.img") { json in
      var entries = try #require(json["entries"] as? [[String: Any]])
      var info = try #require(entries[0]["thread_info"] as? [String: Any])
      var gpregs = try #require(info["gpregs"] as? [String: Any])
      gpregs["ip"] = 0x40_1234
      gpregs["sp"] = 0x7fff_0000_1000
      gpregs["bp"] = 0x7fff_0000_2000
      gpregs["fs_base"] = 0x7f00_0000_3000
      info["gpregs"] = gpregs
      entries[0]["thread_info"] = info
      json["entries"] = entries
    }
    try Self.edit(images, "pstree.img") { json in
      var entries = try #require(json["entries"] as? [[String: Any]])
      entries[0]["threads"] = [1, 100]
      json["entries"] = entries
    }
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-p", "1", "-o", output.path, images])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("pid 1 (piggie), 2 threads, "))
    let text = try Self.gdb(
      output.file("core.1"), ["info threads", "thread 2", "info registers rip rsp rbp fs_base"])
    #expect(text.contains("LWP 1 "), "\(text)")
    #expect(text.contains("LWP 100 "), "\(text)")
    let shown = Self.registers(in: text)
    #expect(shown["rip"] == 0x40_1234)
    #expect(shown["rsp"] == 0x7fff_0000_1000)
    #expect(shown["rbp"] == 0x7fff_0000_2000)
    #expect(shown["fs_base"] == 0x7f00_0000_3000)
    for warning in Self.forbidden { #expect(!text.contains(warning)) }
  }

  @Test func aarch64ImagesGiveAnAarch64Core() throws {
    let work = try TemporaryDirectory()
    let images = try Self.piggieCopy(work)
    try Self.edit(images, "core-4.img") { json in
      var entries = try #require(json["entries"] as? [[String: Any]])
      entries[0]["thread_info"] = nil
      entries[0]["mtype"] = "AARCH64"
      entries[0]["ti_aarch64"] = [
        "clear_tid_addr": 0, "tls": 0xffff_8000_1234,
        "gpregs": ["regs": Array(0..<31), "sp": 0xffff_f000_0000, "pc": 0x40_0abc, "pstate": 0x6000_0000],
        "fpsimd": ["vregs": Array(repeating: 0, count: 64), "fpsr": 0, "fpcr": 0],
      ]
      json["entries"] = entries
    }
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-p", "4", "-o", output.path, images])
    #expect(result.status == 0, "\(result.stderr)")
    let readelf = try Tool.runMerged("readelf", ["-h", "-n", "-W", output.file("core.4")])
    #expect(readelf.status == 0)
    #expect(readelf.output.contains("AArch64"), "\(readelf.output)")
    #expect(!readelf.output.contains("readelf: Error"))
    #expect(!readelf.output.contains("readelf: Warning"))
    // NT_PRSTATUS (392 bytes with aarch64's 34 registers), NT_FPREGSET (528) and the TLS register.
    #expect(readelf.output.contains("0x00000188\tNT_PRSTATUS"), "\(readelf.output)")
    #expect(readelf.output.contains("0x00000210\tNT_FPREGSET"), "\(readelf.output)")
    #expect(readelf.output.contains("NT_ARM_TLS"), "\(readelf.output)")
    #expect(!readelf.output.contains("NT_X86_XSTATE"))
  }

  struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var image: String
    var message: String
    var testDescription: String { name }
  }

  @Test(arguments: [
    BadInput(name: "pagemap past the pages file", image: "pagemap-1.img", message: "lie past the end of pages-1.img"),
    BadInput(name: "overlapping VMAs", image: "mm-1.img", message: "overlaps the VMA before it"),
    BadInput(name: "missing thread core", image: "core-77.img", message: "missing: thread 77 of process 1"),
  ])
  func badImagesAreOneErrorAndNoCore(_ bad: BadInput) throws {
    let work = try TemporaryDirectory()
    let images = try Self.piggieCopy(work)
    switch bad.image {
    case "pagemap-1.img":
      // The pages file loses its last page: the pagemap points past its end.
      let pages = try Files.read(images + "/pages-1.img")
      try Files.write(Array(pages.dropLast(4096)), to: images + "/pages-1.img")
    case "mm-1.img":
      try Self.edit(images, "mm-1.img") { json in
        var entries = try #require(json["entries"] as? [[String: Any]])
        var vmas = try #require(entries[0]["vmas"] as? [[String: Any]])
        let start = try #require((vmas[2]["start"] as? NSNumber)?.uint64Value)
        vmas[1]["end"] = NSNumber(value: start + 4096)
        entries[0]["vmas"] = vmas
        json["entries"] = entries
      }
    default:
      try Self.edit(images, "pstree.img") { json in
        var entries = try #require(json["entries"] as? [[String: Any]])
        entries[0]["threads"] = [1, 77]
        json["entries"] = entries
      }
    }
    let output = try TemporaryDirectory()
    let result = try CLI.run(["coredump", "-o", output.path, images])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: \(images):\(bad.image): "), "\(result.stderr)")
    #expect(result.stderr.contains(bad.message), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    // Every process is checked before any core is written: nothing at all is left, not even a temporary file.
    #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
  }
}
