import Archive
import CRIU
import CheckpointKit
import SystemSupport

extension InspectReport {
  /// Upstream's `--format json`: an array with one object per checkpoint (REFERENCE §2.6), keys in upstream's
  /// order, `children` sorted by pid.
  ///
  /// Beyond upstream, seven flags add keys; each is present exactly when its flag (or `--all`) is given, and
  /// these names and types are stable:
  ///
  /// - `--threads`: every process object that is not a zombie gets
  ///   `"threads": [{"tid": <uint>, "name": <string>}]` (main thread first, as `pstree.img` lists them; the
  ///   name is `thread_core.comm`, else the process's `comm`).
  /// - `--mems`: every process object that is not a zombie gets `"memory_maps": [{"start": "0x7ffd…",
  ///   "end": "0x…", "permissions": "rw-p", "offset": "0x0", "name": "[heap]", "resident": <uint bytes>}]` in
  ///   address order: addresses and file offset as lowercase hex strings with `0x`, `permissions` as in
  ///   `/proc/PID/maps`, `name` a path or `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]`, `[shmem]`,
  ///   `[memfd]`, `[anon]`; `resident` counts the bytes the process's own pagemap lists in the range.
  ///   (`--threads` and `--mems` also turn on `process_tree`.)
  /// - `--rootfs-diff`: `"rootfs_diff": {"files": [{"path": "/root/newfile.txt", "size": <uint bytes>,
  ///   "mode": "-rw-r--r--"}], "deleted": ["/etc/delete-me.txt"]}`: every member of `rootfs-diff.tar` sorted
  ///   by path (absolute, directories included, `mode` as `ls -l` prints it) and the paths of `deleted.files`;
  ///   both arrays are empty when the member is absent.
  /// - `--dump-log`: `"criu": {"image_version": <uint>, "plugins": [<string>], "lsm_type": <string>,
  ///   "dump_criu_run_id": <string>}` from `inventory.img` (`plugins` always present, possibly empty;
  ///   `image_version` absent without an inventory; `lsm_type` and `dump_criu_run_id` only when CRIU set them),
  ///   and `"dump_log": [<string>]`, the last 20 lines of `dump.log`, or `null` when the checkpoint has none
  ///   (Podman exports none).
  /// - `--devshm`: `"devshm": {"destination": "/dev/shm", "size": <uint tar bytes>, "files": [{"path":
  ///   "fx-posix-shm", "size": <uint>, "mode": "-rw-------"}]}`, or `null` without `devshm-checkpoint.tar`.
  /// - `--volumes`: `"volumes": [{"name": "fx-vol", "destination": "/data", "size": <uint tar bytes>, "files":
  ///   [...]}]` sorted by name (`destination` empty when `config.dump` does not name it); in both, `files` are the
  ///   tar's members sorted by path, relative to the directory.
  /// - `--log` (and `--log-lines`): `"container_log": {"name": "ctr.log", "size": <uint bytes>, "lines":
  ///   [<string>], "partial_first_line": <bool>}`, or `null` when the checkpoint has no log.
  public static func json(_ reports: [InspectReport]) -> String {
    JSONValue.array(reports.map(\.jsonValue)).formatted(keyOrder: keyOrder)
  }

  /// Every key in the order upstream's structs declare them; one list serves all levels because no two
  /// objects order a shared key differently.
  static let keyOrder = [
    "container_name", "image", "id", "runtime", "created", "checkpointed", "engine", "ip", "mac", "networks",
    "checkpoint_size", "statistics", "metadata", "process_tree", "file_descriptors", "sockets", "mounts",
    // Beyond upstream (see `json(_:)`): thread and memory-map keys that come before `name`.
    "tid", "start", "end", "permissions", "offset",
    "name", "interfaces", "gateway", "total_size", "memory_pages_size", "root_fs_diff_size",
    "freezing_time", "frozen_time", "memdump_time", "memwrite_time", "pages_scanned", "pages_written",
    "pod_name", "kubernetes_namespace", "annotations",
    "pid", "command", "cmdline", "task_state", "environment_variables", "threads", "memory_maps", "children",
    "open_files", "open_sockets", "protocol", "data", "destination", "type", "source", "fd", "path",
    "socket_type", "family", "address", "state", "src", "src_port", "dst", "dst_port", "peer", "ether_type",
    "ifindex", "port_id", "groups", "send_buf", "recv_buf",
    // Beyond upstream (see `json(_:)`).
    "rootfs_diff", "criu", "dump_log", "devshm", "volumes", "container_log", "resident", "size", "mode",
    "files", "deleted", "image_version", "plugins", "lsm_type", "dump_criu_run_id", "lines", "partial_first_line",
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
    if checkpoint.engine == .podman {
      // Upstream's fields: every address and MAC joined by ", ", each empty one left out.
      if !network.ip.isEmpty { object["ip"] = .string(network.ip) }
      if !network.mac.isEmpty { object["mac"] = .string(network.mac) }
      if !network.networks.isEmpty {
        object["networks"] = .array(
          network.networks.map { network in
            var interfaces: [String: JSONValue] = [:]
            for interface in network.interfaces {
              var fields: [String: JSONValue] = [:]
              if !interface.ip.isEmpty { fields["ip"] = .string(interface.ip) }
              if !interface.mac.isEmpty { fields["mac"] = .string(interface.mac) }
              if !interface.gateway.isEmpty { fields["gateway"] = .string(interface.gateway) }
              interfaces[interface.interface] = .object(fields)
            }
            return .object(["name": .string(network.name), "interfaces": .object(interfaces)])
          })
      }
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
    if let rootFSDiff { object["rootfs_diff"] = rootFSDiff.jsonValue }
    if let criu {
      object["criu"] = criu.jsonValue
      object["dump_log"] = criu.dumpLog.map { .array($0.map(JSONValue.string)) } ?? .null
    }
    if let devShm { object["devshm"] = devShm?.jsonValue ?? .null }
    if let volumes { object["volumes"] = .array(volumes.map(\.jsonValue)) }
    if let containerLog { object["container_log"] = containerLog?.jsonValue ?? .null }
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
  /// `{pid, command, cmdline?, task_state, environment_variables?, threads?, memory_maps?, children?}`.
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
    if let threads {
      object["threads"] = .array(
        threads.map { .object(["tid": .unsigned(UInt64($0.tid)), "name": .string($0.name)]) })
    }
    if let memoryMaps { object["memory_maps"] = .array(memoryMaps.map(\.jsonValue)) }
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
  /// recv_buf}}`; beyond upstream, PACKET sockets have `socket_type` (`RAW`, `DGRAM`), `ether_type` (`ALL`,
  /// `IP`, …, or `0x88cc`) and `ifindex` (0: every interface); NETLINK sockets `family` (`ROUTE`, `AUDIT`, …),
  /// `state` (`CONNECTED`, `UNCONNECTED`), `port_id` and `groups` (the multicast group bit mask as 32-bit words).
  var jsonValue: JSONValue {
    var data: [String: JSONValue] = ["type": .string(type)]
    if !state.isEmpty { data["state"] = .string(state) }
    switch type {
    case "UNIX":
      data["socket_type"] = .string(socketType)
      if !address.isEmpty { data["address"] = .string(address) }
      if peer != 0 { data["peer"] = .unsigned(UInt64(peer)) }
    case "PACKET":
      data["socket_type"] = .string(socketType)
      data["ether_type"] = .string(etherType)
      data["ifindex"] = .unsigned(UInt64(interfaceIndex))
      data["send_buf"] = .string(ByteCount.format(Int64(sendBuffer)))
      data["recv_buf"] = .string(ByteCount.format(Int64(receiveBuffer)))
    case "NETLINK":
      data["family"] = .string(socketType)
      data["port_id"] = .unsigned(UInt64(portID))
      data["groups"] = .array(groups.map { .unsigned(UInt64($0)) })
      data["send_buf"] = .string(ByteCount.format(Int64(sendBuffer)))
      data["recv_buf"] = .string(ByteCount.format(Int64(receiveBuffer)))
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

extension MemoryMapping {
  /// `{start, end, permissions, offset, name, resident}`: addresses and offset as `0x` hex strings.
  var jsonValue: JSONValue {
    .object([
      "start": .string("0x" + String(start, radix: 16)), "end": .string("0x" + String(end, radix: 16)),
      "permissions": .string(permissions), "offset": .string("0x" + String(offset, radix: 16)),
      "name": .string(name), "resident": .integer(resident),
    ])
  }
}

extension RootFSDiff {
  /// `{files: [{path, size, mode}], deleted: [path]}`.
  var jsonValue: JSONValue {
    .object([
      "files": .array(files.map(\.jsonValue)),
      "deleted": .array(deleted.map(JSONValue.string)),
    ])
  }
}

extension CRIUSummary {
  /// `{image_version?, plugins, lsm_type?, dump_criu_run_id?}`.
  var jsonValue: JSONValue {
    var object: [String: JSONValue] = ["plugins": .array(plugins.map(JSONValue.string))]
    if let imageVersion { object["image_version"] = .unsigned(UInt64(imageVersion)) }
    if let lsmType { object["lsm_type"] = .string(lsmType) }
    if let dumpRunID { object["dump_criu_run_id"] = .string(dumpRunID) }
    return .object(object)
  }
}

extension ArchivedFile {
  /// `{path, size, mode}`.
  var jsonValue: JSONValue { .object(["path": .string(path), "size": .integer(size), "mode": .string(mode)]) }
}

extension SavedDirectory {
  /// `{name?, destination, size, files: [{path, size, mode}]}`: `name` for volumes only.
  var jsonValue: JSONValue {
    var object: [String: JSONValue] = [
      "destination": .string(destination), "size": .integer(size), "files": .array(files.map(\.jsonValue)),
    ]
    if !name.isEmpty { object["name"] = .string(name) }
    return .object(object)
  }
}

extension ContainerLog {
  /// `{name, size, lines, partial_first_line}`: each line decoded as UTF-8, a byte that is not valid UTF-8 replaced
  /// with U+FFFD (as Go's `encoding/json` does).
  var jsonValue: JSONValue {
    .object([
      "name": .string(name), "size": .integer(size),
      "lines": .array(lines.map { .string(String(decoding: $0, as: UTF8.self)) }),
      "partial_first_line": .bool(partialFirstLine),
    ])
  }
}
