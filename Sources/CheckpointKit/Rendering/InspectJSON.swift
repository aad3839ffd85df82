import CRIU

extension InspectReport {
  /// Upstream's `--format json`: an array with one object per checkpoint (REFERENCE §2.6), keys in upstream's
  /// order, `children` sorted by pid.
  public static func json(_ reports: [InspectReport]) -> String {
    JSONValue.array(reports.map(\.jsonValue)).formatted(keyOrder: keyOrder)
  }

  /// Every key in the order upstream's structs declare them; one list serves all levels because no two
  /// objects order a shared key differently.
  static let keyOrder = [
    "container_name", "image", "id", "runtime", "created", "checkpointed", "engine", "ip", "mac", "networks",
    "checkpoint_size", "statistics", "metadata", "process_tree", "file_descriptors", "sockets", "mounts",
    "name", "interfaces", "gateway", "total_size", "memory_pages_size", "root_fs_diff_size",
    "freezing_time", "frozen_time", "memdump_time", "memwrite_time", "pages_scanned", "pages_written",
    "pod_name", "kubernetes_namespace", "annotations",
    "pid", "command", "cmdline", "task_state", "environment_variables", "children", "open_files", "open_sockets",
    "protocol", "data", "destination", "type", "source", "fd", "path", "socket_type", "address", "state", "src",
    "src_port", "dst", "dst_port", "peer", "send_buf", "recv_buf",
  ]

  /// This checkpoint's JSON object.
  public var jsonValue: JSONValue {
    var object: [String: JSONValue] = [
      "container_name": .string(checkpoint.name), "image": .string(checkpoint.image),
      "id": .string(checkpoint.id), "runtime": .string(checkpoint.runtime), "created": .string(checkpoint.created),
      "engine": .string(checkpoint.engine.displayName),
    ]
    if let checkpointed = checkpoint.checkpointed, !checkpointed.isZero {
      object["checkpointed"] = .string(checkpointed.text)
    }
    if checkpoint.engine == .podman, let first = networks.first {
      object["ip"] = .string(String(first.ip.prefix { $0 != "/" }))
      object["mac"] = .string(first.mac)
      var byNetwork: [(String, [String: JSONValue])] = []
      for network in networks {
        let interface: JSONValue = .object([
          "ip": .string(network.ip), "mac": .string(network.mac), "gateway": .string(network.gateway),
        ])
        if let index = byNetwork.firstIndex(where: { $0.0 == network.network }) {
          byNetwork[index].1[network.interface] = interface
        } else {
          byNetwork.append((network.network, [network.interface: interface]))
        }
      }
      object["networks"] = .array(
        byNetwork.map { .object(["name": .string($0.0), "interfaces": .object($0.1)]) })
    } else if let ip = checkpoint.ipAddress, !ip.isEmpty {
      object["ip"] = .string(ip)
    }
    var size: [String: JSONValue] = ["total_size": .integer(checkpoint.checkpointSize)]
    if checkpoint.pagesSize > 0 { size["memory_pages_size"] = .integer(checkpoint.pagesSize) }
    if checkpoint.rootFSDiffSize > 0 { size["root_fs_diff_size"] = .integer(checkpoint.rootFSDiffSize) }
    object["checkpoint_size"] = .object(size)
    if let statistics { object["statistics"] = statistics.jsonValue }
    if showsMetadata {
      var metadata: [String: JSONValue] = [:]
      if !checkpoint.podName.isEmpty { metadata["pod_name"] = .string(checkpoint.podName) }
      if !checkpoint.namespace.isEmpty { metadata["kubernetes_namespace"] = .string(checkpoint.namespace) }
      if !checkpoint.annotations.isEmpty {
        metadata["annotations"] = .object(checkpoint.annotations.mapValues { .string($0) })
      }
      object["metadata"] = .object(metadata)
    }
    if let processTree {
      if let root = processTree.first { object["process_tree"] = root.jsonValue }
      let all = processTree.flatMap(\.preorder).filter { $0.process.state.hasResources }
      let withFiles = all.compactMap { process in
        process.files.map { files -> JSONValue in
          .object([
            "pid": .unsigned(UInt64(process.pid)),
            "open_files": .array(files.map(\.jsonValue)),
          ])
        }
      }
      if !withFiles.isEmpty { object["file_descriptors"] = .array(withFiles) }
      let withSockets = all.compactMap { process in
        process.sockets.flatMap { $0.isEmpty ? nil : $0 }.map { sockets -> JSONValue in
          .object([
            "pid": .unsigned(UInt64(process.pid)),
            "open_sockets": .array(sockets.map(\.jsonValue)),
          ])
        }
      }
      if !withSockets.isEmpty { object["sockets"] = .array(withSockets) }
    }
    if let mounts {
      object["mounts"] = .array(
        mounts.map {
          .object(["destination": .string($0.destination), "type": .string($0.type), "source": .string($0.source)])
        })
    }
    return .object(object)
  }
}

extension DumpStatistics {
  /// Raw microseconds and page counts; zero values are left out, as upstream's `omitempty` does.
  var jsonValue: JSONValue {
    let fields: [(String, UInt64)] = [
      ("freezing_time", freezingTime), ("frozen_time", frozenTime), ("memdump_time", memdumpTime),
      ("memwrite_time", memwriteTime), ("pages_scanned", pagesScanned), ("pages_written", pagesWritten),
    ]
    return .object(Dictionary(uniqueKeysWithValues: fields.filter { $0.1 != 0 }.map { ($0.0, .unsigned($0.1)) }))
  }
}

extension InspectedProcess {
  /// The process and its descendants, parents first, children by pid.
  var preorder: [InspectedProcess] { [self] + children.flatMap(\.preorder) }

  /// `{pid, command, cmdline?, task_state, environment_variables?, children?}`.
  var jsonValue: JSONValue {
    var object: [String: JSONValue] = [
      "pid": .unsigned(UInt64(pid)), "command": .string(process.name),
      "task_state": .string(process.state.description),
    ]
    if let commandLine { object["cmdline"] = .string(commandLine) }
    if let environment, !environment.isEmpty {
      object["environment_variables"] = .object(
        Dictionary(
          environment.map { ($0.name, JSONValue.string($0.value ?? "")) }, uniquingKeysWith: { _, last in last }))
    }
    if !children.isEmpty { object["children"] = .array(children.map(\.jsonValue)) }
    return .object(object)
  }
}

extension OpenFile {
  /// `{type, fd: "TYPE FD" (or cwd/root), path}`.
  var jsonValue: JSONValue {
    .object([
      "type": .string(type), "fd": .string(type.isEmpty ? descriptor : "\(type) \(descriptor)"),
      "path": .string(path),
    ])
  }
}

extension OpenSocket {
  /// `{protocol, data: {type, socket_type?, address?, state, src, src_port, dst, dst_port?, peer?, send_buf,
  /// recv_buf}}`.
  var jsonValue: JSONValue {
    var data: [String: JSONValue] = ["type": .string(type)]
    if !state.isEmpty { data["state"] = .string(state) }
    switch type {
    case "UNIX":
      data["socket_type"] = .string(socketType)
      if !address.isEmpty { data["address"] = .string(address) }
      if peer != 0 { data["peer"] = .unsigned(UInt64(peer)) }
    case "PACKET", "NETLINK":
      break
    default:
      data["src"] = .string(source)
      data["src_port"] = .unsigned(UInt64(sourcePort))
      data["dst"] = .string(destination)
      if destinationPort != 0 { data["dst_port"] = .unsigned(UInt64(destinationPort)) }
      data["send_buf"] = .string(ByteCount.format(Int64(sendBuffer)))
      data["recv_buf"] = .string(ByteCount.format(Int64(receiveBuffer)))
    }
    return .object(["protocol": .string(type), "data": .object(data)])
  }
}
