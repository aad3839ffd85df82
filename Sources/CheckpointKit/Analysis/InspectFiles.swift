import Archive
import CRIU
import FoundationEssentials
import SystemSupport

/// One open file of a process, as `inspect --files` shows it.
public struct OpenFile: Equatable, Sendable {
  /// The kind (`REG`, `PIPE`, `FIFO`, `TTY`, `UNIXSK`, …); empty for cwd and root.
  public var type: String
  /// The descriptor (`0`), or `cwd` / `root`.
  public var descriptor: String
  /// What it is: a path (`(deleted)` appended for unlinked files), `pipe[ino]`, a socket's addresses, …
  public var path: String

  /// A file with these fields.
  public init(type: String, descriptor: String, path: String) {
    self.type = type
    self.descriptor = descriptor
    self.path = path
  }
}

/// One open socket of a process, as `inspect --sockets` shows it.
public struct OpenSocket: Equatable, Sendable {
  /// `TCP`, `UDP`, `UNIX`, `PACKET`, `NETLINK` (for INET sockets of another protocol, its number).
  public var type: String
  /// UNIX: `STREAM`, `DGRAM`, `SEQPACKET`; PACKET: `RAW`, `DGRAM`; NETLINK: the netlink family (`ROUTE`,
  /// `AUDIT`, `GENERIC`, …, or its number; `family` in JSON); empty for INET.
  public var socketType: String
  /// The kernel state (`LISTEN`, `ESTABLISHED`, `CLOSE`, …).
  public var state: String
  /// INET: local address.
  public var source: String
  /// INET: local port.
  public var sourcePort: UInt32
  /// INET: remote address (the unspecified address when unconnected).
  public var destination: String
  /// INET: remote port (0 when unconnected).
  public var destinationPort: UInt32
  /// UNIX: the printable name (`@name` for abstract ones), empty when unnamed.
  public var address: String
  /// UNIX: the peer's inode (0 when none).
  public var peer: UInt32
  /// PACKET: the EtherType received (`ALL`, `IP`, `ARP`, `IPV6`, or `0x88cc`); empty for the others.
  public var etherType: String = ""
  /// PACKET: the interface index it is bound to (0: every interface).
  public var interfaceIndex: UInt32 = 0
  /// NETLINK: its port id (0 when unbound).
  public var portID: UInt32 = 0
  /// NETLINK: the multicast groups it joined, a bit mask in 32-bit words (bit 0 of word 0 is group 1).
  public var groups: [UInt32] = []
  /// The inode.
  public var inode: UInt32
  /// SO_SNDBUF in bytes (the buffer's size, not queued data).
  public var sendBuffer: UInt32
  /// SO_RCVBUF in bytes.
  public var receiveBuffer: UInt32

  /// `host:port`, IPv6 bracketed (`[::1]:8443`).
  public static func endpoint(_ address: String, _ port: UInt32) -> String {
    (address.contains(":") ? "[\(address)]" : address) + ":\(port)"
  }

  /// The line below the `[TYPE (STATE)]` label.
  public var summary: String {
    switch type {
    case "UNIX":
      var text = address.isEmpty ? "(unnamed)" : address
      if peer != 0 { text += " -> peer \(peer)" }
      return text
    case "PACKET":
      return "\(etherType) on " + (interfaceIndex == 0 ? "every interface" : "interface \(interfaceIndex)")
    case "NETLINK":
      let mask = groups.reversed().map { MemoryMapping.hex(UInt64($0), width: 8) }.joined().drop { $0 == "0" }
      return "port \(portID)" + (mask.isEmpty ? "" : ", groups 0x\(mask)")
    default:
      return
        "\(Self.endpoint(source, sourcePort)) -> \(Self.endpoint(destination, destinationPort)) "
        + "(↑ \(ByteCount.format(Int64(sendBuffer))) ↓ \(ByteCount.format(Int64(receiveBuffer))))"
    }
  }

  /// `TCP (LISTEN)`, `UNIX STREAM (LISTEN)`.
  public var label: String {
    let kind = socketType.isEmpty ? type : "\(type) \(socketType)"
    return state.isEmpty ? kind : "\(kind) (\(state))"
  }
}

/// The file descriptors of a checkpoint's processes (`files.img`, `fdinfo-*`, `ids-*`, `fs-*`,
/// `remap-fpath.img`).
package struct FileTable {
  let source: CheckpointSource
  package let files: [UInt32: FileEntry]
  package let deleted: Set<UInt32>

  /// Member (relative to the image directory) naming unlinked files that CRIU recreated on restore.
  package static let remapImage = CRIUImage.remapFilePath.name

  package init(source: CheckpointSource) throws {
    self.source = source
    var files: [UInt32: FileEntry] = [:]
    for entry in try source.image(.files).messages(FileEntry.self) { files[entry.id] = entry }
    self.files = files
    var deleted = Set<UInt32>()
    if source.contains(CRIUImage.remapFilePath) {
      for remap in try source.image(.remapFilePath).messages(RemapFilePathEntry.self)
      where remap.remapType == .ghost || remap.remapType == .linked {
        deleted.insert(remap.origID)
      }
    }
    self.deleted = deleted
  }

  /// The descriptors of `pid`, in fd order.
  package func descriptors(of pid: UInt32) throws -> [FdinfoEntry] {
    let ids = try source.image(.ids(pid: pid)).messages(TaskKobjIdsEntry.self).first ?? TaskKobjIdsEntry()
    return try source.image(.fdinfo(id: ids.filesID)).messages(FdinfoEntry.self).sorted { $0.fd < $1.fd }
  }

  /// Descriptors as `[TYPE FD]  what`, then cwd and root.
  func openFiles(of pid: UInt32, descriptors: [FdinfoEntry]) throws -> [OpenFile] {
    var result = descriptors.map { fd in
      OpenFile(type: Self.typeName(fd.type), descriptor: String(fd.fd), path: describe(id: fd.id, type: fd.type))
    }
    let fs = try source.image(.fs(pid: pid)).messages(FsEntry.self).first ?? FsEntry()
    result.append(OpenFile(type: "", descriptor: "cwd", path: path(ofRegular: fs.cwdID)))
    result.append(OpenFile(type: "", descriptor: "root", path: path(ofRegular: fs.rootID)))
    return result
  }

  /// The sockets among the descriptors, in fd order.
  func sockets(_ descriptors: [FdinfoEntry]) -> [OpenSocket] {
    descriptors.compactMap { fd in files[fd.id].flatMap(Self.socket) }
  }

  /// `REG`, `PIPE`, … as CRIU names the fd types.
  static func typeName(_ type: FdTypes) -> String {
    switch type {
    case .ctlTty: return "CTL_TTY"
    case .autofsPipe: return "AUTOFS_PIPE"
    default: return "\(type)".uppercased()
    }
  }

  /// The path of a regular file entry, `(deleted)` appended when it was unlinked.
  package func path(ofRegular id: UInt32) -> String {
    guard let entry = files[id], entry.hasReg else { return "file[\(id)]" }
    return deleted.contains(id) ? entry.reg.name + " (deleted)" : entry.reg.name
  }

  func describe(id: UInt32, type: FdTypes) -> String {
    guard let entry = files[id] else { return "\(Self.typeName(type)).\(id)" }
    switch entry.type {
    case .reg: return path(ofRegular: id)
    case .pipe: return "pipe[\(entry.pipe.pipeID)]"
    case .fifo:
      let name = files[entry.fifo.regfID].map { _ in path(ofRegular: entry.fifo.regfID) }
      return "fifo[\(entry.fifo.pipeID)]" + (name.map { " " + $0 } ?? "")
    case .tty:
      return entry.tty.hasRegfID ? path(ofRegular: entry.tty.regfID) : "tty[\(entry.tty.ttyInfoID)]"
    case .inetsk, .unixsk, .packetsk, .netlinksk:
      guard let socket = Self.socket(entry) else { return "socket[\(id)]" }
      return "\(socket.label)  \(socket.summary)"
    default: return "\(Self.typeName(entry.type)).\(id)"
    }
  }

  static let unixTypes: [UInt32: String] = [1: "STREAM", 2: "DGRAM", 5: "SEQPACKET"]
  static let states: [UInt32: String] = [
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
    8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV",
  ]
  static let protocols: [UInt32: String] = [6: "TCP", 17: "UDP", 136: "UDPLITE", 1: "ICMP", 58: "ICMPV6", 255: "RAW"]

  static func state(_ value: UInt32) -> String { states[value] ?? "state \(value)" }

  /// Packet socket types (`SOCK_DGRAM`, `SOCK_RAW`).
  static let packetTypes: [UInt32: String] = [2: "DGRAM", 3: "RAW", 10: "PACKET"]
  /// EtherTypes a packet socket is commonly bound to (0: none yet, it receives nothing until bound).
  static let etherTypes: [UInt16: String] = [
    0x0000: "NONE", 0x0003: "ALL", 0x0800: "IP", 0x0806: "ARP", 0x86DD: "IPV6",
  ]
  /// Netlink families (`NETLINK_ROUTE` = 0, …).
  static let netlinkFamilies: [UInt32: String] = [
    0: "ROUTE", 1: "UNUSED", 2: "USERSOCK", 3: "FIREWALL", 4: "SOCK_DIAG", 5: "NFLOG", 6: "XFRM", 7: "SELINUX",
    8: "ISCSI", 9: "AUDIT", 10: "FIB_LOOKUP", 11: "CONNECTOR", 12: "NETFILTER", 13: "IP6_FW", 14: "DNRTMSG",
    15: "KOBJECT_UEVENT", 16: "GENERIC", 18: "SCSITRANSPORT", 19: "ECRYPTFS", 20: "RDMA", 21: "CRYPTO", 22: "SMC",
  ]

  /// The socket a file entry describes, if it is one.
  package static func socket(_ entry: FileEntry) -> OpenSocket? {
    var socket = OpenSocket(
      type: "", socketType: "", state: "", source: "", sourcePort: 0, destination: "", destinationPort: 0,
      address: "", peer: 0, inode: 0, sendBuffer: 0, receiveBuffer: 0)
    let options: SkOptsEntry
    switch entry.type {
    case .inetsk:
      let isk = entry.isk
      socket.type = protocols[isk.proto] ?? "IP(\(isk.proto))"
      socket.state = state(isk.state)
      socket.source = address(isk.srcAddr)
      socket.sourcePort = isk.srcPort
      socket.destination = address(isk.dstAddr.isEmpty ? Array(repeating: 0, count: isk.srcAddr.count) : isk.dstAddr)
      socket.destinationPort = isk.dstPort
      socket.inode = isk.ino
      options = isk.opts
    case .unixsk:
      let usk = entry.usk
      socket.type = "UNIX"
      socket.socketType = unixTypes[usk.type] ?? "type \(usk.type)"
      socket.state = state(usk.state)
      socket.address = unixName([UInt8](usk.name))
      socket.peer = usk.peer
      socket.inode = usk.ino
      options = usk.opts
    case .packetsk:
      let psk = entry.psk
      socket.type = "PACKET"
      socket.socketType = packetTypes[psk.type] ?? "type \(psk.type)"
      // CRIU stores the protocol as the socket call takes it: in network byte order.
      let etherType = UInt16(bigEndian: UInt16(truncatingIfNeeded: psk.protocol))
      socket.etherType = etherTypes[etherType] ?? "0x" + MemoryMapping.hex(UInt64(etherType), width: 4)
      socket.interfaceIndex = psk.ifindex
      options = psk.opts
    case .netlinksk:
      let nlsk = entry.nlsk
      socket.type = "NETLINK"
      socket.socketType = netlinkFamilies[nlsk.protocol] ?? "\(nlsk.protocol)"
      socket.state = nlsk.state == 1 ? "CONNECTED" : "UNCONNECTED"
      socket.inode = nlsk.ino
      socket.portID = nlsk.portid
      socket.groups = nlsk.groups
      options = nlsk.opts
    default:
      return nil
    }
    socket.sendBuffer = options.soSndbuf
    socket.receiveBuffer = options.soRcvbuf
    return socket
  }

  /// IPv4 (one word) or IPv6 (four words); CRIU stores network-order bytes as little-endian u32 words.
  static func address(_ words: [UInt32]) -> String {
    var bytes: [UInt8] = []
    for word in words {
      bytes += [UInt8(word & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word >> 16 & 0xFF), UInt8(word >> 24)]
    }
    if bytes.isEmpty { return "0.0.0.0" }
    return IPAddress.format(bytes)
  }

  /// A UNIX socket name made printable: trailing NULs dropped, an abstract name (leading NUL) as `@name`,
  /// other control bytes as `\xNN`.
  static func unixName(_ bytes: [UInt8]) -> String {
    var bytes = bytes[...]
    while bytes.last == 0 { bytes.removeLast() }
    guard !bytes.isEmpty else { return "" }
    var prefix = ""
    if bytes.first == 0 {
      prefix = "@"
      bytes.removeFirst()
    }
    let text = String(decoding: bytes, as: UTF8.self)
    var result = prefix
    for scalar in text.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7F {
        result += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}
