/// How crit renders one field: the `(criu)` field options that CRIU's image `.proto` files carry.
///
/// `decode --pretty` writes integers of `hex` fields (and every integer inside a `hex` message field) as
/// `"0x…"`, `flags` fields as their bit names joined with `" | "`, `dev` fields as `"major:minor"`, `dict` fields
/// by name, and `ipadd` fields as an address; `conv = "unix_name"` bytes are quoted-printable in every mode.
public struct CritOption: Sendable, Equatable {
  /// Integers in hex (`"0x1f"`); on a message field, every integer below it too.
  public var hex = false
  /// A repeated `u32` field holding an IPv4 (one word) or IPv6 (four words) address in network order.
  public var ipadd = false
  /// A device number shown as `major:minor` (kernel encoding: 12-bit major above a 20-bit minor).
  public var dev = false
  /// With `dev`: the old `dev_t` encoding of `makedev` (the device number of a stat).
  public var odev = false
  /// The name of the flag table (`mmap.prot`, `rfile.flags`, …).
  public var flags: String?
  /// The name of the value table (`gen`, `sk`); the field's name selects the table inside it.
  public var dict: String?
  /// A custom bytes conversion (`unix_name`: quoted-printable).
  public var conv: String?

  static let hexadecimal = CritOption(hex: true)
  static let address = CritOption(ipadd: true)
  static let device = CritOption(dev: true)
  static let oldDevice = CritOption(dev: true, odev: true)
  static func flags(_ table: String) -> CritOption { CritOption(flags: table) }
  static func dict(_ table: String) -> CritOption { CritOption(dict: table) }

  /// The options of field `field` of message `message` (full proto name, `criu.VmaEntry`); none by default.
  public static func of(message: String, field: String) -> CritOption {
    let name = message.hasPrefix("criu.") ? String(message.dropFirst(5)) : message
    return table[name]?[field] ?? CritOption()
  }

  /// Options by message and field, as CRIU 4.2's image `.proto` files set them.
  static let table: [String: [String: CritOption]] = [
    "BpfmapFileEntry": ["flags": .flags("rfile.flags")],
    "FanotifyFileEntry": ["flags": .hexadecimal, "faflags": .hexadecimal, "evflags": .hexadecimal],
    "FanotifyMarkEntry": [
      "mflags": .hexadecimal, "mask": .hexadecimal, "ignored_mask": .hexadecimal, "s_dev": .device,
    ],
    "GhostFileEntry": ["dev": .device, "rdev": .oldDevice],
    "InetSkEntry": [
      "family": .dict("sk"), "type": .dict("sk"), "proto": .dict("sk"), "state": .dict("sk"), "flags": .hexadecimal,
      "src_addr": .address, "dst_addr": .address,
    ],
    "InotifyFileEntry": ["flags": .hexadecimal],
    "InotifyWdEntry": ["mask": .hexadecimal, "ignored_mask": .hexadecimal, "s_dev": .device],
    "IrmapCacheEntry": ["dev": .oldDevice],
    "MemfdFileEntry": ["flags": .flags("rfile.flags")],
    "MemfdInodeEntry": ["seals": .flags("seals.flags")],
    "MmEntry": [
      "mm_start_code": .hexadecimal, "mm_end_code": .hexadecimal, "mm_start_data": .hexadecimal,
      "mm_end_data": .hexadecimal, "mm_start_stack": .hexadecimal, "mm_start_brk": .hexadecimal,
      "mm_brk": .hexadecimal, "mm_arg_start": .hexadecimal, "mm_arg_end": .hexadecimal,
      "mm_env_start": .hexadecimal, "mm_env_end": .hexadecimal,
    ],
    "MntEntry": ["root_dev": .device, "flags": .hexadecimal, "sb_flags": .hexadecimal],
    "NetDeviceEntry": ["flags": .hexadecimal],
    "NetlinkSkEntry": ["flags": .hexadecimal],
    "PacketSockEntry": ["flags": .hexadecimal],
    "PagemapEntry": ["vaddr": .hexadecimal, "flags": .flags("pmap.flags")],
    "PipeEntry": ["flags": .hexadecimal],
    "RegFileEntry": ["flags": .flags("rfile.flags")],
    "SaEntry": [
      "sigaction": .hexadecimal, "flags": .hexadecimal, "restorer": .hexadecimal, "mask": .hexadecimal,
      "mask_extended": .hexadecimal,
    ],
    "SignalfdEntry": ["flags": .hexadecimal, "sigmask": .hexadecimal],
    "SitEntry": ["local": .address, "remote": .address, "rd_prefix": .address, "relay_prefix": .address],
    "TaskCoreEntry": [
      "task_state": .dict("gen"), "blk_sigset": .hexadecimal, "blk_sigset_extended": .hexadecimal,
      "membarrier_registration_mask": .hexadecimal,
    ],
    "TcpStreamEntry": ["opt_mask": .hexadecimal],
    "ThreadInfoAarch64": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal],
    "ThreadInfoArm": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal],
    "ThreadInfoLoongarch64": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal, "fpregs": .hexadecimal],
    "ThreadInfoMips": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal, "fpregs": .hexadecimal],
    "ThreadInfoPpc64": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal],
    "ThreadInfoRiscv64": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal],
    "ThreadInfoS390": [
      "clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal, "fpregs": .hexadecimal, "vxrs_low": .hexadecimal,
      "vxrs_high": .hexadecimal, "gs_cb": .hexadecimal, "gs_bc": .hexadecimal, "ri_cb": .hexadecimal,
    ],
    "ThreadInfoX86": ["clear_tid_addr": .hexadecimal, "gpregs": .hexadecimal],
    "TimerfdEntry": ["flags": .hexadecimal, "settime_flags": .hexadecimal],
    "TtyFileEntry": ["flags": .hexadecimal],
    "TunLinkEntry": ["flags": .hexadecimal],
    "UnixSkEntry": [
      "type": .dict("sk"), "state": .dict("sk"), "flags": .hexadecimal, "uflags": .hexadecimal,
      "name": CritOption(conv: "unix_name"),
    ],
    "UserX86CetEntry": ["cet": .hexadecimal, "ssp": .hexadecimal],
    "VmaEntry": [
      "start": .hexadecimal, "end": .hexadecimal, "prot": .flags("mmap.prot"), "flags": .flags("mmap.flags"),
      "status": .flags("mmap.status"), "madv": .hexadecimal, "fdflags": .hexadecimal,
    ],
  ]

  /// crit's flag tables: names in the order crit lists set bits.
  static let flagTables: [String: [(String, UInt64)]] = [
    "mmap.prot": [("PROT_READ", 0x1), ("PROT_WRITE", 0x2), ("PROT_EXEC", 0x4)],
    "mmap.flags": [
      ("MAP_SHARED", 0x1), ("MAP_PRIVATE", 0x2), ("MAP_DROPPABLE", 0x8), ("MAP_ANON", 0x20),
      ("MAP_GROWSDOWN", 0x100),
    ],
    "mmap.status": [
      ("VMA_AREA_NONE", 0), ("VMA_AREA_REGULAR", 1 << 0), ("VMA_AREA_STACK", 1 << 1),
      ("VMA_AREA_VSYSCALL", 1 << 2), ("VMA_AREA_VDSO", 1 << 3), ("VMA_AREA_HEAP", 1 << 5),
      ("VMA_FILE_PRIVATE", 1 << 6), ("VMA_FILE_SHARED", 1 << 7), ("VMA_ANON_SHARED", 1 << 8),
      ("VMA_ANON_PRIVATE", 1 << 9), ("VMA_AREA_SYSVIPC", 1 << 10), ("VMA_AREA_SOCKET", 1 << 11),
      ("VMA_AREA_VVAR", 1 << 12), ("VMA_AREA_AIORING", 1 << 13), ("VMA_AREA_MEMFD", 1 << 14),
      ("VMA_AREA_SHSTK", 1 << 15), ("VMA_AREA_UPROBES", 1 << 17), ("VMA_UNSUPP", 1 << 31),
    ],
    // Octal values of the x86 open(2) flags.
    "rfile.flags": [
      ("O_WRONLY", 0o1), ("O_RDWR", 0o2), ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400),
      ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000), ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000),
      ("FASYNC", 0o20000), ("O_DIRECT", 0o40000), ("O_LARGEFILE", 0o100000), ("O_DIRECTORY", 0o200000),
      ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000),
    ],
    "seals.flags": [
      ("F_SEAL_SEAL", 0x1), ("F_SEAL_SHRINK", 0x2), ("F_SEAL_GROW", 0x4), ("F_SEAL_WRITE", 0x8),
      ("F_SEAL_FUTURE_WRITE", 0x10),
    ],
    "pmap.flags": [("PE_PARENT", 1 << 0), ("PE_LAZY", 1 << 1), ("PE_PRESENT", 1 << 2)],
  ]

  /// crit's value tables: table → field name → value → name.
  ///
  /// `task_state` is crit's own naming (CRIU's TASK_ALIVE, TASK_DEAD, TASK_STOPPED, TASK_ZOMBIE); the socket
  /// tables drop the `AF_`, `SOCK_`, `TCP_` and `IPPROTO_` prefixes.
  static let dictTables: [String: [String: [UInt64: String]]] = [
    "gen": ["task_state": [1: "Alive", 2: "Dead", 3: "Stopped", 6: "Zombie"]],
    "sk": [
      "family": [1: "UNIX", 2: "INET", 10: "INET6", 16: "NETLINK", 17: "PACKET"],
      "type": [1: "STREAM", 2: "DGRAM", 3: "RAW", 5: "SEQPACKET", 10: "PACKET"],
      "state": [
        1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
        8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
      ],
      "proto": [0: "IP", 6: "TCP", 17: "UDP", 136: "UDPLITE"],
    ],
  ]
}
