import CRIU
import CheckpointKit

/// The architectures a core can be written for, from `core_entry.mtype`.
public enum CoreMachine: Equatable, Sendable {
  /// x86-64 (`mtype` X86_64).
  case x86_64
  /// 64-bit ARM (`mtype` AARCH64).
  case aarch64

  /// The architecture of `mtype`, if cores can be written for it.
  init?(_ mtype: CoreEntry.March) {
    switch mtype {
    case .x8664: self = .x86_64
    case .aarch64: self = .aarch64
    default: return nil
    }
  }

  /// `e_machine`: EM_X86_64 (62), EM_AARCH64 (183).
  public var elfMachine: UInt16 {
    switch self {
    case .x86_64: return 62
    case .aarch64: return 183
    }
  }
}

/// What `NT_PRPSINFO` says about a process.
struct CoreProcessInfo {
  var pid: UInt32
  var ppid: UInt32
  var pgid: UInt32
  var sid: UInt32
  var state: TaskState
  var name: String
  /// argv from memory (NULs between arguments), possibly empty.
  var arguments: [UInt8]
  var uid: UInt32
  var gid: UInt32
  var nice: Int32
  var flags: UInt32
}

/// One file mapping for `NT_FILE`.
struct CoreFileMapping: Equatable {
  var start: UInt64
  var end: UInt64
  /// Offset in the file in bytes.
  var offset: UInt64
  var path: String
}

/// The notes of a core: `NT_PRPSINFO`, per thread `NT_PRSTATUS`, `NT_FPREGSET`, `NT_X86_XSTATE` (x86-64) or
/// `NT_ARM_TLS` (aarch64) and `NT_SIGINFO`, then `NT_AUXV` and `NT_FILE`.
enum CoreNotes {
  static let prstatus: UInt32 = 1
  static let fpregset: UInt32 = 2
  static let prpsinfo: UInt32 = 3
  static let auxv: UInt32 = 6
  static let x86XState: UInt32 = 0x202
  static let armTLS: UInt32 = 0x401
  static let siginfo: UInt32 = 0x5349_4749
  static let file: UInt32 = 0x4649_4c45
  /// The signal the core says stopped the process: SIGSTOP, as a checkpoint freezes it.
  static let stopSignal: Int32 = 19

  /// XSAVE component offsets in the standard (non-compacted) format, which is what ptrace and cores use.
  enum XSave {
    static let headerOffset = 512
    static let ymmOffset = 576
    static let bndregsOffset = 960
    static let bndcsrOffset = 1024
    static let opmaskOffset = 1088
    static let zmmHi256Offset = 1152
    static let hi16ZmmOffset = 1664
    static let pkruOffset = 2688
    /// Where ptrace and cores keep XCR0: the first word of the software-reserved bytes of the FXSAVE area.
    static let xcr0Offset = 464
  }

  /// Every note of one process; `threads` start with the main thread. Throws when a thread's core has no
  /// registers for `machine`.
  static func notes(
    machine: CoreMachine, process: CoreProcessInfo, threads: [(tid: UInt32, core: CoreEntry)], auxv: [UInt64],
    files: [CoreFileMapping], pageSize: Int
  ) throws(CoreDumpError) -> [UInt8] {
    var out = ELFCore.note(name: "CORE", type: prpsinfo, description: psinfo(process))
    for (tid, core) in threads {
      switch machine {
      case .x86_64:
        guard core.hasThreadInfo, core.threadInfo.hasGpregs else { throw .noRegisters(tid: tid, machine: "x86-64") }
        let info = core.threadInfo
        out += ELFCore.note(
          name: "CORE", type: prstatus, description: status(tid, process, core, x86Registers(info.gpregs)))
        out += ELFCore.note(name: "CORE", type: siginfo, description: signalInfo())
        out += ELFCore.note(name: "CORE", type: fpregset, description: fxsave(info.fpregs, xcr0: nil))
        out += ELFCore.note(name: "LINUX", type: x86XState, description: xstate(info.fpregs))
      case .aarch64:
        guard core.hasTiAarch64, core.tiAarch64.hasGpregs else { throw .noRegisters(tid: tid, machine: "aarch64") }
        let info = core.tiAarch64
        var registers = ByteWriter()
        registers.append(words: info.gpregs.regs, count: 31)
        registers.append(u64: info.gpregs.sp)
        registers.append(u64: info.gpregs.pc)
        registers.append(u64: info.gpregs.pstate)
        out += ELFCore.note(name: "CORE", type: prstatus, description: status(tid, process, core, registers.bytes))
        out += ELFCore.note(name: "CORE", type: siginfo, description: signalInfo())
        var fp = ByteWriter()
        fp.append(words: info.fpsimd.vregs, count: 64)
        fp.append(u32: info.fpsimd.fpsr)
        fp.append(u32: info.fpsimd.fpcr)
        fp.append(zeros: 8)
        out += ELFCore.note(name: "CORE", type: fpregset, description: fp.bytes)
        var tls = ByteWriter()
        tls.append(u64: info.tls)
        out += ELFCore.note(name: "LINUX", type: armTLS, description: tls.bytes)
      }
    }
    out += ELFCore.note(name: "CORE", type: Self.auxv, description: auxvBytes(auxv))
    if !files.isEmpty {
      out += ELFCore.note(name: "CORE", type: file, description: fileNote(files, pageSize: pageSize))
    }
    return out
  }

  /// `struct elf_prpsinfo` (136 bytes on 64-bit Linux).
  static func psinfo(_ process: CoreProcessInfo) -> [UInt8] {
    var out = ByteWriter(capacity: 136)
    // pr_state is the kernel's state index; pr_sname its letter in "RSDTZW".
    let (state, letter): (UInt8, UInt8) = process.state == .stopped ? (3, UInt8(ascii: "T")) : (1, UInt8(ascii: "S"))
    out.append(u8: state)
    out.append(u8: letter)
    out.append(u8: 0)  // pr_zomb
    out.append(u8: UInt8(bitPattern: Int8(clamping: process.nice)))
    out.append(zeros: 4)
    out.append(u64: UInt64(process.flags))
    out.append(u32: process.uid)
    out.append(u32: process.gid)
    out.append(u32: process.pid)
    out.append(u32: process.ppid)
    out.append(u32: process.pgid)
    out.append(u32: process.sid)
    out.append(fixed: Array(process.name.utf8), count: 16)
    // pr_psargs: the arguments with NULs as spaces, as the kernel writes them.
    var arguments = process.arguments.map { $0 == 0 ? UInt8(ascii: " ") : $0 }
    while arguments.last == UInt8(ascii: " ") { arguments.removeLast() }
    out.append(fixed: arguments.isEmpty ? Array(process.name.utf8) : arguments, count: 80)
    return out.bytes
  }

  /// `struct elf_prstatus`: signal, pids, zero times, then `registers`, then `pr_fpvalid`.
  static func status(_ tid: UInt32, _ process: CoreProcessInfo, _ core: CoreEntry, _ registers: [UInt8]) -> [UInt8] {
    var out = ByteWriter(capacity: 112 + registers.count + 8)
    out.append(i32: stopSignal)  // si_signo
    out.append(i32: 0)  // si_code
    out.append(i32: 0)  // si_errno
    out.append(u16: UInt16(stopSignal))  // pr_cursig
    out.append(zeros: 2)
    out.append(u64: 0)  // pr_sigpend
    out.append(u64: core.hasThreadCore && core.threadCore.hasBlkSigset ? core.threadCore.blkSigset : core.tc.blkSigset)
    out.append(u32: tid)
    out.append(u32: process.ppid)
    out.append(u32: process.pgid)
    out.append(u32: process.sid)
    out.append(zeros: 64)  // pr_utime, pr_stime, pr_cutime, pr_cstime
    out.append(bytes: registers)
    out.append(i32: 1)  // pr_fpvalid
    out.append(zeros: 4)
    return out.bytes
  }

  /// `struct user_regs_struct` in the kernel's order, which is also the field order of CRIU's `gpregs`.
  static func x86Registers(_ r: UserX86RegsEntry) -> [UInt8] {
    var out = ByteWriter(capacity: 27 * 8)
    for value in [
      r.r15, r.r14, r.r13, r.r12, r.bp, r.bx, r.r11, r.r10, r.r9, r.r8, r.ax, r.cx, r.dx, r.si, r.di, r.origAx,
      r.ip, r.cs, r.flags, r.sp, r.ss, r.fsBase, r.gsBase, r.ds, r.es, r.fs, r.gs,
    ] {
      out.append(u64: value)
    }
    return out.bytes
  }

  /// The 512-byte FXSAVE area (`struct user_i387_struct`); with `xcr0`, the XSAVE software-reserved bytes hold it.
  static func fxsave(_ fp: UserX86FpregsEntry, xcr0: UInt64?) -> [UInt8] {
    var out = ByteWriter(capacity: 512)
    out.append(u16: UInt16(truncatingIfNeeded: fp.cwd))
    out.append(u16: UInt16(truncatingIfNeeded: fp.swd))
    out.append(u16: UInt16(truncatingIfNeeded: fp.twd))
    out.append(u16: UInt16(truncatingIfNeeded: fp.fop))
    out.append(u64: fp.rip)
    out.append(u64: fp.rdp)
    out.append(u32: fp.mxcsr)
    out.append(u32: fp.mxcsrMask)
    out.append(words: fp.stSpace, count: 32)
    out.append(words: fp.xmmSpace, count: 64)
    out.append(zeros: 512 - 416)
    if let xcr0 { out.set(u64: xcr0, at: XSave.xcr0Offset) }
    return out.bytes
  }

  /// XCR0 as the saved components show it: x87 and SSE always, AVX, MPX, AVX-512 and PKRU when CRIU saved them.
  static func xcr0(_ xsave: UserX86XsaveEntry) -> UInt64 {
    var mask: UInt64 = 0b11
    if !xsave.ymmhSpace.isEmpty { mask |= 1 << 2 }
    if !xsave.bndregState.isEmpty { mask |= 1 << 3 }
    if !xsave.bndcsrState.isEmpty { mask |= 1 << 4 }
    if !xsave.opmaskReg.isEmpty { mask |= 1 << 5 }
    if !xsave.zmmUpper.isEmpty { mask |= 1 << 6 }
    if !xsave.hi16Zmm.isEmpty { mask |= 1 << 7 }
    if !xsave.pkru.isEmpty { mask |= 1 << 9 }
    return mask
  }

  /// The size gdb and the kernel give an XSAVE area with `xcr0` (the offset past its highest component).
  static func xstateSize(xcr0: UInt64) -> Int {
    if xcr0 & (1 << 9) != 0 { return XSave.pkruOffset + 8 }
    if xcr0 & 0xe0 != 0 { return XSave.hi16ZmmOffset + 1024 }
    if xcr0 & 0x18 != 0 { return XSave.opmaskOffset }
    if xcr0 & 0x4 != 0 { return XSave.bndregsOffset - 128 }
    return XSave.ymmOffset
  }

  /// `NT_X86_XSTATE`: the XSAVE area in standard format, sized by XCR0, with XCR0 at offset 464.
  static func xstate(_ fp: UserX86FpregsEntry) -> [UInt8] {
    let xsave = fp.xsave
    let mask = xcr0(xsave)
    var out = ByteWriter(capacity: xstateSize(xcr0: mask))
    out.append(bytes: fxsave(fp, xcr0: mask))
    out.append(u64: (xsave.hasXstateBv ? xsave.xstateBv : 0b11) & mask)  // XSTATE_BV
    out.append(zeros: XSave.ymmOffset - XSave.headerOffset - 8)  // XCOMP_BV 0: standard format
    func component(_ words: [UInt64], at offset: Int, bytes: Int, bit: Int) {
      guard mask & (1 << UInt64(bit)) != 0 else { return }
      out.append(zeros: offset - out.bytes.count)
      out.append(words: words, count: bytes / 8)
    }
    if mask & (1 << 2) != 0 {
      out.append(words: xsave.ymmhSpace, count: 64)
    }
    component(xsave.bndregState, at: XSave.bndregsOffset, bytes: 64, bit: 3)
    component(xsave.bndcsrState, at: XSave.bndcsrOffset, bytes: 64, bit: 4)
    component(xsave.opmaskReg, at: XSave.opmaskOffset, bytes: 64, bit: 5)
    component(xsave.zmmUpper, at: XSave.zmmHi256Offset, bytes: 512, bit: 6)
    component(xsave.hi16Zmm, at: XSave.hi16ZmmOffset, bytes: 1024, bit: 7)
    if mask & (1 << 9) != 0 {
      out.append(zeros: XSave.pkruOffset - out.bytes.count)
      out.append(words: xsave.pkru, count: 2)
    }
    out.append(zeros: xstateSize(xcr0: mask) - out.bytes.count)
    return out.bytes
  }

  /// `siginfo_t` (128 bytes) for the stop signal.
  static func signalInfo() -> [UInt8] {
    var out = ByteWriter(capacity: 128)
    out.append(i32: stopSignal)
    out.append(zeros: 124)
    return out.bytes
  }

  /// The saved auxiliary vector up to and including its `AT_NULL` pair.
  static func auxvBytes(_ words: [UInt64]) -> [UInt8] {
    var out = ByteWriter(capacity: words.count * 8 + 16)
    var index = 0
    while index + 1 < words.count {
      out.append(u64: words[index])
      out.append(u64: words[index + 1])
      if words[index] == 0 { return out.bytes }
      index += 2
    }
    out.append(u64: 0)
    out.append(u64: 0)
    return out.bytes
  }

  /// `NT_FILE`: count, page size, (start, end, offset in pages) per mapping, then the NUL-terminated names.
  static func fileNote(_ files: [CoreFileMapping], pageSize: Int) -> [UInt8] {
    var out = ByteWriter()
    out.append(u64: UInt64(files.count))
    out.append(u64: UInt64(pageSize))
    for mapping in files {
      out.append(u64: mapping.start)
      out.append(u64: mapping.end)
      out.append(u64: mapping.offset / UInt64(pageSize))
    }
    for mapping in files {
      out.append(bytes: Array(mapping.path.utf8.filter { $0 != 0 }) + [0])
    }
    return out.bytes
  }
}
