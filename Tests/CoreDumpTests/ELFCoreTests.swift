import CRIU
import CheckpointKit
import Testing

@testable import CoreDump

/// The ELF layout of cores, byte by byte.
@Suite struct ELFCoreTests {
  static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
  }
  static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
  }
  static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
  }

  static func load(_ address: UInt64) -> ELFCore.ProgramHeader {
    ELFCore.ProgramHeader(
      type: 1, permissions: [.read, .write], offset: 0x1000, address: address, fileSize: 0x1000,
      memorySize: 0x2000, alignment: 0x1000)
  }

  @Test func headerOfAnX86Core() {
    let bytes = ELFCore.headers(machine: 62, programHeaders: [Self.load(0x400000)])
    #expect(bytes.count == ELFCore.headersSize(programHeaders: 1))
    #expect(Array(bytes[0..<7]) == [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
    #expect(Self.u16(bytes, 16) == 4)  // ET_CORE
    #expect(Self.u16(bytes, 18) == 62)  // EM_X86_64
    #expect(Self.u64(bytes, 32) == 64)  // e_phoff
    #expect(Self.u64(bytes, 40) == 0)  // e_shoff
    #expect(Self.u16(bytes, 56) == 1)  // e_phnum
    #expect(Self.u16(bytes, 60) == 0)  // e_shnum
    // The program header: PT_LOAD, PF_R|PF_W, offset, vaddr, filesz, memsz.
    #expect(Self.u32(bytes, 64) == 1)
    #expect(Self.u32(bytes, 68) == 6)
    #expect(Self.u64(bytes, 72) == 0x1000)
    #expect(Self.u64(bytes, 80) == 0x400000)
    #expect(Self.u64(bytes, 96) == 0x1000)
    #expect(Self.u64(bytes, 104) == 0x2000)
  }

  @Test func moreThan65534SegmentsUseExtendedNumbering() {
    let headers = (0..<70_000).map { Self.load(UInt64($0) << 13) }
    let bytes = ELFCore.headers(machine: 62, programHeaders: headers)
    #expect(bytes.count == 64 + 70_000 * 56 + 64)
    #expect(Self.u16(bytes, 56) == 0xffff)  // e_phnum = PN_XNUM
    let sectionOffset = Int(Self.u64(bytes, 40))
    #expect(sectionOffset == 64 + 70_000 * 56)
    #expect(Self.u16(bytes, 58) == 64)  // e_shentsize
    #expect(Self.u16(bytes, 60) == 1)  // e_shnum
    #expect(Self.u32(bytes, sectionOffset + 4) == 0)  // SHT_NULL
    #expect(Self.u32(bytes, sectionOffset + 44) == 70_000)  // sh_info: the real count
    // 65534 segments still fit e_phnum.
    let fits = ELFCore.headers(machine: 62, programHeaders: Array(headers.prefix(65_534)))
    #expect(Self.u16(fits, 56) == 65_534)
    #expect(Self.u64(fits, 40) == 0)
  }

  @Test func notesArePaddedToFourBytes() {
    let note = ELFCore.note(name: "LINUX", type: 0x202, description: [1, 2, 3, 4, 5])
    #expect(Self.u32(note, 0) == 6)  // "LINUX\0"
    #expect(Self.u32(note, 4) == 5)
    #expect(Self.u32(note, 8) == 0x202)
    #expect(Array(note[12..<18]) == Array("LINUX".utf8) + [0])
    #expect(note.count == 12 + 8 + 8)
    #expect(Array(note[20..<25]) == [1, 2, 3, 4, 5])
  }

  @Test func xstateIsSizedByXCR0WithXCR0AtOffset464() {
    var fp = UserX86FpregsEntry()
    fp.mxcsr = 0x1f80
    fp.xmmSpace = Array(repeating: 7, count: 64)
    fp.stSpace = Array(repeating: 0, count: 32)
    var sse = CoreNotes.xstate(fp)
    #expect(sse.count == 576)
    #expect(Self.u64(sse, 464) == 0b11)
    fp.xsave.xstateBv = 0xff
    fp.xsave.ymmhSpace = Array(repeating: 9, count: 64)
    sse = CoreNotes.xstate(fp)
    #expect(sse.count == 832)
    #expect(Self.u64(sse, 464) == 0b111)
    #expect(Self.u64(sse, 512) == 0b111)  // XSTATE_BV limited to XCR0
    #expect(Self.u32(sse, 576) == 9)
    fp.xsave.opmaskReg = Array(repeating: 1, count: 8)
    fp.xsave.zmmUpper = Array(repeating: 2, count: 64)
    fp.xsave.hi16Zmm = Array(repeating: 3, count: 128)
    let avx512 = CoreNotes.xstate(fp)
    #expect(avx512.count == 2688)
    #expect(Self.u64(avx512, 464) == 0xe7)
    #expect(Self.u64(avx512, 1088) == 1)
    #expect(Self.u64(avx512, 1152) == 2)
    #expect(Self.u64(avx512, 1664) == 3)
    fp.xsave.pkru = [0x5555_5554]
    let pkru = CoreNotes.xstate(fp)
    #expect(pkru.count == 2696)
    #expect(Self.u32(pkru, 2688) == 0x5555_5554)
    // The FXSAVE part is the same as NT_FPREGSET's, apart from XCR0.
    let fxsave = CoreNotes.fxsave(fp, xcr0: nil)
    #expect(fxsave.count == 512)
    #expect(Array(fxsave[0..<464]) == Array(pkru[0..<464]))
  }

  @Test func fileNoteLayout() {
    let note = CoreNotes.fileNote(
      [
        CoreFileMapping(start: 0x400000, end: 0x401000, offset: 0, path: "/bin/busybox"),
        CoreFileMapping(start: 0x401000, end: 0x47b000, offset: 0x1000, path: "/lib/x.so"),
      ], pageSize: 4096)
    #expect(Self.u64(note, 0) == 2)
    #expect(Self.u64(note, 8) == 4096)
    #expect(Self.u64(note, 16) == 0x400000)
    #expect(Self.u64(note, 24) == 0x401000)
    #expect(Self.u64(note, 40 + 16) == 1)  // the second mapping's offset, in pages
    #expect(Array(note[64...]) == Array("/bin/busybox\0/lib/x.so\0".utf8))
  }

  @Test func auxvEndsAtTheFirstNullPair() {
    let bytes = CoreNotes.auxvBytes([6, 4096, 0, 0, 33, 7])
    #expect(bytes.count == 32)
    #expect(Self.u64(bytes, 0) == 6)
    #expect(Self.u64(bytes, 16) == 0)
    // Without AT_NULL, one is added.
    #expect(CoreNotes.auxvBytes([6, 4096, 7]).count == 32)
  }

  @Test func psinfoAndPrstatusHaveTheKernelSizes() {
    let process = CoreProcessInfo(
      pid: 1, ppid: 0, pgid: 1, sid: 1, state: .alive, name: "sleep", arguments: Array("sleep\u{0}1000\u{0}".utf8),
      uid: 0, gid: 0, nice: 0, flags: 0)
    let info = CoreNotes.psinfo(process)
    #expect(info.count == 136)
    #expect(Array(info[56..<66]) == Array("sleep 1000".utf8))
    #expect(info[66] == 0)
    let status = CoreNotes.status(7, process, CoreEntry(), CoreNotes.x86Registers(UserX86RegsEntry()))
    #expect(status.count == 336)
    #expect(Self.u32(status, 32) == 7)  // pr_pid is the thread
  }
}
