import CRIU
import CheckpointKit
import SystemSupport

/// A socket one process holds, with the descriptors it holds it by.
struct HeldSocket {
  var pid: UInt32
  var process: String
  var descriptors: [UInt32]
  var socket: OpenSocket

  /// True for a socket that talks to one other end, as a shell's standard input does in a reverse shell: a
  /// network socket that is not listening, or a connected UNIX stream. A named UNIX datagram socket on standard
  /// input (busybox `syslogd` serves `/dev/log` there) is a server, not a conversation.
  var isConversation: Bool {
    switch socket.type {
    case "UNIX": return socket.peer != 0 && socket.socketType != "DGRAM"
    case "PACKET", "NETLINK": return false
    default: return socket.state != "LISTEN"
    }
  }

  var fdText: String {
    (descriptors.count == 1 ? "fd " : "fds ") + descriptors.map(String.init).joined(separator: ", ")
  }
  var text: String {
    socket.type == "UNIX" || socket.type == "TCP" || socket.type == "UDP"
      ? "\(socket.label) \(endpoints)" : socket.label
  }
  var endpoints: String {
    switch socket.type {
    case "UNIX": return socket.address.isEmpty ? "(unnamed)" : quoted(socket.address)
    default:
      let local = OpenSocket.endpoint(socket.source, socket.sourcePort)
      return socket.state == "LISTEN"
        ? local : "\(local) -> \(OpenSocket.endpoint(socket.destination, socket.destinationPort))"
    }
  }
}

extension Indicators {
  /// Bytes of a TCP queue shown as evidence; the finding says how many there are in all.
  static let queueShown = 4096

  /// Every socket of every process, by process, then by first descriptor.
  func socketTable() throws -> [HeldSocket] {
    guard let files else { return [] }
    var result: [HeldSocket] = []
    for process in processes where process.state.hasResources {
      var byFile: [UInt32: Int] = [:]
      for descriptor in try files.descriptors(of: process.pid) {
        guard let entry = files.files[descriptor.id], let socket = FileTable.socket(entry) else { continue }
        if let index = byFile[descriptor.id] {
          result[index].descriptors.append(descriptor.fd)
        } else {
          byFile[descriptor.id] = result.count
          result.append(
            HeldSocket(pid: process.pid, process: process.name, descriptors: [descriptor.fd], socket: socket))
        }
      }
    }
    return result
  }

  /// The other end of a connection, in every process of the checkpoint that holds it.
  static func peers(of held: HeldSocket, in table: [HeldSocket]) -> [HeldSocket] {
    let socket = held.socket
    if socket.type == "UNIX" {
      return socket.peer == 0 ? [] : table.filter { $0.socket.type == "UNIX" && $0.socket.inode == socket.peer }
    }
    return table.filter {
      $0.socket.type == socket.type && $0.socket.state != "LISTEN" && $0.socket.source == socket.destination
        && $0.socket.sourcePort == socket.destinationPort && $0.socket.destination == socket.source
        && $0.socket.destinationPort == socket.sourcePort && $0.socket.inode != socket.inode
    }
  }

  func socketFindings(
    _ process: CheckpointProcess, sockets table: [HeldSocket], queues: [(String, [UInt8])],
    add: (FindingKind, [String], String, [Evidence]) -> Void
  ) throws {
    let ids = try source.image(.ids(pid: process.pid)).messages(TaskKobjIdsEntry.self).first ?? TaskKobjIdsEntry()
    let images = [CRIUImage.fdinfo(id: ids.filesID).name, CRIUImage.files.name]
    func peerEvidence(_ held: HeldSocket) -> [Evidence] {
      Self.peers(of: held, in: table).map {
        Evidence("peer", text: "pid \($0.pid) (\(quoted($0.process))) \($0.fdText): \($0.text)")
      }
    }
    for held in table where held.pid == process.pid {
      let stdio = held.descriptors.filter { $0 <= 2 }
      if !stdio.isEmpty && held.isConversation {
        let names = stdio.map { ["standard input", "standard output", "standard error"][Int($0)] }
        add(
          .socketStdio, images,
          "\(names.joined(separator: ", ")) \(names.count == 1 ? "is" : "are") a socket: \(held.text)",
          peerEvidence(held))
      }
      if held.socket.state == "LISTEN" {
        add(.listeningSocket, images, "listens on \(held.text) (\(held.fdText))", [])
      } else if held.socket.state == "ESTABLISHED" && (held.socket.type != "UNIX" || held.socket.peer != 0) {
        add(.connection, images, "connected: \(held.text) (\(held.fdText))", peerEvidence(held))
      }
    }
    for (name, bytes) in queues {
      guard let inode = UInt32(name.dropFirst(Self.queuePrefix.count).dropLast(CRIUImage.suffix.count), radix: 16),
        let owner = table.first(where: { $0.socket.inode == inode }), owner.pid == process.pid
      else { continue }
      let image = try ImageFile(decoding: bytes)
      guard let first = image.entries.first, let stream = first.message as? TcpStreamEntry else { continue }
      let extra = first.extra ?? []
      let received = extra.prefix(Int(min(UInt64(stream.inqLen), UInt64(extra.count))))
      let unsent = extra.dropFirst(received.count).prefix(Int(stream.outqLen))
      guard !received.isEmpty || !unsent.isEmpty else { continue }
      var evidence: [Evidence] = []
      for (label, queue) in [("receive queue", received), ("send queue", unsent)] where !queue.isEmpty {
        let shown = Array(queue.prefix(Self.queueShown))
        let more = queue.count > shown.count ? " (first \(shown.count) shown)" : ""
        evidence.append(Evidence("\(label), \(queue.count) bytes\(more)", bytes: shown))
      }
      add(
        .tcpQueue, [name],
        "\(owner.text): \(received.count) bytes received and not yet read, \(unsent.count) bytes not yet sent", evidence
      )
    }
  }

  static let queuePrefix = "tcp-stream-"

  /// The `tcp-stream-<inode>.img` images, by name.
  func queues() throws -> [(String, [UInt8])] {
    let prefix = source.imagePrefix + Self.queuePrefix
    return try source.memberNames.filter { $0.hasPrefix(prefix) && $0.hasSuffix(CRIUImage.suffix) }.map {
      (String($0.dropFirst(source.imagePrefix.count)), try source.bytes(of: $0))
    }
  }
}

/// Linux capabilities by number, and the container's set.
enum Capabilities {
  static let names = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
  ].map { "CAP_" + $0 }

  /// The names of the capabilities set in `words` (32 capabilities a word).
  static func names(_ words: [UInt32]) -> [String] {
    var result: [String] = []
    for (index, word) in words.prefix(2).enumerated() {
      for bit in 0..<32 where word & (1 << UInt32(bit)) != 0 {
        let number = index * 32 + bit
        result.append(number < names.count ? names[number] : "CAP_\(number)")
      }
    }
    return result
  }

  /// The effective set of the container's first process (the root of its tree, which the runtime started with
  /// the container's capabilities: processes can only drop them): a process with more came from outside (an
  /// `exec` with other capabilities, a process injected into the container's namespaces).
  static func containerDefault(of source: CheckpointSource, processes: [CheckpointProcess]) throws -> Set<String> {
    let pids = Set(processes.map(\.pid))
    guard let root = processes.first(where: { $0.ppid == 0 || !pids.contains($0.ppid) }),
      let creds = try source.image(.core(tid: root.pid)).messages(CoreEntry.self).first?.threadCore.creds
    else { return [] }
    return Set(names(creds.capEff))
  }
}
