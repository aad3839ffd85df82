import SwiftProtobuf

/// What an image file starts with.
public enum ImagePrefix: Sendable {
  /// `IMG_COMMON` (0x54564319) followed by the image magic: most images.
  case common
  /// The image magic alone: `inventory.img`.
  case bare
  /// `IMG_SERVICE` (0x55105940) followed by the image magic: `stats-dump`, `irmap-cache`.
  case service
}

/// One kind of CRIU image: its magic, the protobuf message of its entries, and the raw bytes that follow each
/// entry in some images.
public struct ImageKind: Sendable, Equatable, CustomStringConvertible {
  /// The name crit prints as `magic` (CRIU's magic constant without `_MAGIC`), e.g. `PSTREE`.
  public let name: String
  /// The image magic (as written little-endian after the prefix).
  public let magic: UInt32
  /// How the file starts.
  public let prefix: ImagePrefix
  /// The message type of every entry (after the head, if any).
  public let entryType: any Message.Type
  /// The message type of the first entry when it differs (`pagemap`'s head).
  public let headType: (any Message.Type)?
  /// Raw bytes after each entry.
  let extra: ExtraPayload

  public var description: String { name }

  public static func == (lhs: ImageKind, rhs: ImageKind) -> Bool { lhs.magic == rhs.magic && lhs.name == rhs.name }

  init(
    _ name: String, _ magic: UInt32, _ entryType: any Message.Type, prefix: ImagePrefix = .common,
    head: (any Message.Type)? = nil, extra: ExtraPayload = .none
  ) {
    self.name = name
    self.magic = magic
    self.prefix = prefix
    self.entryType = entryType
    self.headType = head
    self.extra = extra
  }
}

/// Magic values of the prefixes.
public enum ImageMagic {
  /// Written before the image magic of most images.
  public static let common: UInt32 = 0x5456_4319
  /// Written before the image magic of service files.
  public static let service: UInt32 = 0x5510_5940
}

extension ImageKind {
  /// Every image kind this tool decodes, by magic.
  public static let all: [ImageKind] = [
    ImageKind("INVENTORY", 0x5831_3116, InventoryEntry.self, prefix: .bare),
    ImageKind("PSTREE", 0x5027_3030, PstreeEntry.self),
    ImageKind("CORE", 0x5505_3847, CoreEntry.self),
    ImageKind("IDS", 0x5443_2030, TaskKobjIdsEntry.self),
    ImageKind("MM", 0x5749_2820, MmEntry.self),
    ImageKind("PAGEMAP", 0x5608_4025, PagemapEntry.self, head: PagemapHead.self),
    ImageKind("FILES", 0x5630_3138, FileEntry.self),
    ImageKind("FDINFO", 0x5621_3732, FdinfoEntry.self),
    ImageKind("FS", 0x5140_3912, FsEntry.self),
    ImageKind("REG_FILES", 0x5036_3636, RegFileEntry.self),
    ImageKind("PIPES", 0x5651_3555, PipeEntry.self),
    ImageKind(
      "PIPES_DATA", 0x5645_3709, PipeDataEntry.self, extra: .sized { ($0 as? PipeDataEntry).map { Int($0.bytes) } }),
    ImageKind(
      "FIFO_DATA", 0x5933_3054, PipeDataEntry.self, extra: .sized { ($0 as? PipeDataEntry).map { Int($0.bytes) } }),
    ImageKind("INETSK", 0x5644_3851, InetSkEntry.self),
    ImageKind("UNIXSK", 0x5437_3943, UnixSkEntry.self),
    ImageKind("PACKETSK", 0x6045_4618, PacketSockEntry.self),
    ImageKind("NETLINK_SK", 0x5800_5614, NetlinkSkEntry.self),
    ImageKind(
      "SK_QUEUES", 0x5626_4026, SkPacketEntry.self, extra: .sized { ($0 as? SkPacketEntry).map { Int($0.length) } }),
    ImageKind("TCP_STREAM", 0x5146_5506, TcpStreamEntry.self, extra: .tcpQueues),
    ImageKind("MNTS", 0x5556_3928, MntEntry.self),
    ImageKind("NETDEV", 0x5737_3951, NetDeviceEntry.self),
    ImageKind("NETNS", 0x5593_3752, NetnsEntry.self),
    ImageKind("UTSNS", 0x5447_3203, UtsnsEntry.self),
    ImageKind("IPC_VAR", 0x5311_5007, IpcVarEntry.self),
    ImageKind("TIMENS", 0x4311_4433, TimensEntry.self),
    ImageKind("PIDNS", 0x6115_7326, PidnsEntry.self),
    ImageKind("USERNS", 0x5547_4906, UsernsEntry.self),
    ImageKind("CGROUP", 0x5938_3330, CgroupEntry.self),
    ImageKind("SECCOMP", 0x6441_3049, SeccompEntry.self),
    ImageKind("CREDS", 0x5402_3547, CredsEntry.self),
    ImageKind("SIGACT", 0x5534_4201, SaEntry.self),
    ImageKind("VMAS", 0x5412_3737, VmaEntry.self),
    ImageKind("GHOST_FILE", 0x5258_3605, GhostFileEntry.self, extra: .ghost),
    ImageKind("MEMFD_INODE", 0x4845_3499, MemfdInodeEntry.self),
    ImageKind("TTY_FILES", 0x5943_3025, TtyFileEntry.self),
    ImageKind("TTY_INFO", 0x5945_3036, TtyInfoEntry.self),
    ImageKind("RLIMIT", 0x5711_3925, RlimitEntry.self),
    ImageKind("FILE_LOCKS", 0x5432_3616, FileLockEntry.self),
    ImageKind("EVENTFD_FILE", 0x4452_3722, EventfdFileEntry.self),
    ImageKind("EVENTPOLL_FILE", 0x4502_3858, EventpollFileEntry.self),
    ImageKind("TIMERFD", 0x5049_3712, TimerfdEntry.self),
    ImageKind("INOTIFY_FILE", 0x4842_4431, InotifyFileEntry.self),
    ImageKind("SIGNAL", 0x5925_5647, SiginfoEntry.self),
    ImageKind("PIDFD", 0x5443_5556, PidfdEntry.self),
    ImageKind("REMAP_FPATH", 0x5913_3954, RemapFilePathEntry.self),
    ImageKind("NS_FILES", 0x6139_4011, NsFileEntry.self),
    ImageKind("EXT_FILES", 0x5925_5641, ExtFileEntry.self),
    ImageKind("TUNFILE", 0x5714_3751, TunfileEntry.self),
    ImageKind("BPFMAP_FILE", 0x5750_6142, BpfmapFileEntry.self),
    ImageKind(
      "BPFMAP_DATA", 0x6432_4033, BpfmapDataEntry.self,
      extra: .sized { ($0 as? BpfmapDataEntry).map { Int($0.keysBytes) + Int($0.valuesBytes) } }),
    ImageKind("STATS", 0x5709_3306, StatsEntry.self, prefix: .service),
  ]

  private static let byMagic: [UInt32: ImageKind] = Dictionary(
    all.map { ($0.magic, $0) }, uniquingKeysWith: { first, _ in first })
  private static let byName: [String: ImageKind] = Dictionary(
    all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

  /// The kind with this image magic.
  public static func with(magic: UInt32) -> ImageKind? { byMagic[magic] }

  /// The kind crit calls `name` (`PSTREE`, `CORE`, …).
  public static func named(_ name: String) -> ImageKind? { byName[name] }
}

/// Raw bytes that follow an entry.
enum ExtraPayload: Sendable {
  case none
  /// A length given by the entry.
  case sized(@Sendable (any Message) -> Int?)
  /// tcp-stream: the receive queue (`inq_len`) then the send queue (`outq_len`).
  case tcpQueues
  /// ghost-file: without `chunks`, the file contents (everything after the entry); with `chunks`, the entries
  /// that follow are `GhostChunkEntry`s, each followed by its `len` bytes.
  case ghost
}

extension ImageKind {
  /// The message type of entry `index` of an image (the head, if any, is entry 0), given the first entry.
  public func messageType(at index: Int, first: (any Message)?) -> any Message.Type {
    if index == 0, let headType { return headType }
    if case .ghost = extra, index > 0, (first as? GhostFileEntry)?.chunks == true { return GhostChunkEntry.self }
    return entryType
  }
}
