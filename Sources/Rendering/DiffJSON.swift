import CRIU
import CheckpointKit
import SystemSupport

extension CheckpointDiff {
  /// Upstream's JSON (`container_id`, `container_name`, `image`, `checkpoint_a`, `checkpoint_b`,
  /// `process_changes`, `file_changes`, `memory_changes`, `socket_changes`, `summary`, with `added`, `removed`,
  /// `modified` and `unchanged` lists that are absent when empty), every list sorted. Beyond upstream:
  /// `path` and `memory_pages_size` in `checkpoint_a`/`checkpoint_b`; `task_state`, `ppid`, `threads`,
  /// `environment_variables` (with `--ps-tree-env`) and `changes: [{field, before, after}]` on processes;
  /// `socket_type`, `peer` and `summary` on sockets; and `memory_map_changes`, `page_changes` and
  /// `rootfs_changes` (docs/json-schemas.md has their schema).
  public var json: String { jsonValue.formatted(keyOrder: Self.keyOrder) + "\n" }

  /// ``json``'s value.
  var jsonValue: JSONValue {
    var object: [String: JSONValue] = [
      "container_id": .string(containerID), "container_name": .string(containerName), "image": .string(image),
      "checkpoint_a": a.jsonValue, "checkpoint_b": b.jsonValue,
      "memory_changes": .object([
        "size_change_bytes": .integer(memoryChange),
        "size_change_mb": .number(Double(memoryChange) / 1024 / 1024),
      ]),
      "summary": .string(summary),
    ]
    object["process_changes"] = Self.lists([
      ("added", processes.added), ("removed", processes.removed), ("modified", processes.modified),
      ("unchanged", processes.unchanged),
    ]) { $0.jsonValue(options) }
    if let files {
      object["file_changes"] = Self.lists(
        [("added", files.added), ("removed", files.removed), ("unchanged", files.unchanged)]
      ) { $0.jsonValue }
    }
    if let sockets {
      object["socket_changes"] = Self.lists(
        [("added", sockets.added), ("removed", sockets.removed), ("unchanged", sockets.unchanged)]
      ) { $0.jsonValue }
    }
    if let memoryMaps { object["memory_map_changes"] = .array(memoryMaps.map(\.jsonValue)) }
    if let pages { object["page_changes"] = .array(pages.map(\.jsonValue)) }
    if let rootFS { object["rootfs_changes"] = rootFS.jsonValue }
    return .object(object)
  }

  static let keyOrder = [
    "container_id", "container_name", "image", "checkpoint_a", "checkpoint_b", "process_changes", "file_changes",
    "memory_changes", "socket_changes", "memory_map_changes", "page_changes", "rootfs_changes", "summary",
    "created", "total_size", "memory_pages_size", "path", "added", "removed", "modified", "changed", "unchanged",
    "pid", "command", "cmdline", "task_state", "ppid", "threads", "environment_variables", "changes", "field",
    "before", "after", "size_change_bytes", "size_change_mb", "protocol", "type", "socket_type", "address",
    "state", "source", "src_port", "dest", "dst_port", "peer", "fd", "start", "end", "permissions", "offset",
    "name", "resident", "added_bytes", "removed_bytes", "changed_bytes", "unchanged_bytes", "ranges", "kind",
    "bytes", "vma", "size", "mode", "digest", "deleted_added", "deleted_removed",
  ]

  /// `{added: […], removed: […], …}` with the empty lists left out, as upstream's `omitempty` does.
  static func lists<Element>(_ lists: [(String, [Element])], _ value: (Element) -> JSONValue) -> JSONValue {
    .object(
      Dictionary(
        lists.filter { !$0.1.isEmpty }.map { ($0.0, JSONValue.array($0.1.map(value))) },
        uniquingKeysWith: { first, _ in first }))
  }
}

extension CheckpointDiff.Side {
  var jsonValue: JSONValue {
    .object([
      "created": .string(created), "total_size": .integer(totalSize), "memory_pages_size": .integer(pagesSize),
      "path": .string(path),
    ])
  }
}

extension CheckpointDiff.Process {
  func jsonValue(_ options: CheckpointDiff.Options) -> JSONValue {
    var object: [String: JSONValue] = [
      "pid": .unsigned(UInt64(pid)), "command": .string(command), "task_state": .string(state),
      "ppid": .unsigned(UInt64(parent)), "threads": .integer(Int64(threads)),
    ]
    if let commandLine { object["cmdline"] = .string(commandLine) }
    if let environment {
      object["environment_variables"] = .object(
        Dictionary(
          environment.map { ($0.name, JSONValue.string($0.value ?? "")) }, uniquingKeysWith: { _, last in last }))
    }
    if !changes.isEmpty {
      object["changes"] = .array(
        changes.map { change in
          var entry: [String: JSONValue] = ["field": .string(change.field)]
          entry["before"] = change.before.map(JSONValue.string) ?? .null
          entry["after"] = change.after.map(JSONValue.string) ?? .null
          return .object(entry)
        })
    }
    return .object(object)
  }
}

extension CheckpointDiff.File {
  var jsonValue: JSONValue {
    .object(["path": .string(path), "type": .string(type), "pid": .unsigned(UInt64(pid)), "fd": .string(fd)])
  }
}

extension CheckpointDiff.Socket {
  /// Upstream's `{pid, protocol, type, address?, state?, source?, src_port?, dest?, dst_port?}`, plus
  /// `socket_type`, `peer` and `summary` (the text `inspect` shows).
  var jsonValue: JSONValue {
    var object: [String: JSONValue] = [
      "pid": .unsigned(UInt64(pid)), "protocol": .string(socket.type), "type": .string(socket.type),
    ]
    if !socket.socketType.isEmpty { object["socket_type"] = .string(socket.socketType) }
    if !socket.address.isEmpty { object["address"] = .string(socket.address) }
    if !socket.state.isEmpty { object["state"] = .string(socket.state) }
    if socket.type == "TCP" || socket.type == "UDP" || Int(socket.type) != nil {
      object["source"] = .string(socket.source)
      if socket.sourcePort != 0 { object["src_port"] = .unsigned(UInt64(socket.sourcePort)) }
      object["dest"] = .string(socket.destination)
      if socket.destinationPort != 0 { object["dst_port"] = .unsigned(UInt64(socket.destinationPort)) }
    }
    if socket.peer != 0 { object["peer"] = .unsigned(UInt64(socket.peer)) }
    return .object(object)
  }
}

extension MemoryMapChanges {
  var jsonValue: JSONValue {
    .object([
      "pid": .unsigned(UInt64(pid)), "command": .string(command), "added": .array(added.map(\.jsonValue)),
      "removed": .array(removed.map(\.jsonValue)),
      "changed": .array(changed.map { .object(["before": $0.before.jsonValue, "after": $0.after.jsonValue]) }),
      "unchanged": .integer(Int64(unchanged)),
    ])
  }
}

extension PageChanges {
  var jsonValue: JSONValue {
    .object([
      "pid": .unsigned(UInt64(pid)), "command": .string(command), "added_bytes": .unsigned(total(.added)),
      "removed_bytes": .unsigned(total(.removed)), "changed_bytes": .unsigned(total(.changed)),
      "unchanged_bytes": .unsigned(unchangedBytes),
      "ranges": .array(
        ranges.map { range in
          .object([
            "start": .string("0x" + String(range.start, radix: 16)),
            "end": .string("0x" + String(range.end, radix: 16)),
            "kind": .string(range.kind.rawValue), "bytes": .unsigned(range.bytes), "vma": .string(range.vma),
          ])
        }),
    ])
  }
}

extension RootFSChanges {
  var jsonValue: JSONValue {
    func file(_ file: File) -> JSONValue {
      .object([
        "path": .string(file.path), "size": .integer(file.size), "mode": .string(file.mode),
        "digest": .string(file.digest),
      ])
    }
    return .object([
      "added": .array(added.map(file)), "removed": .array(removed.map(file)),
      "changed": .array(changed.map { .object(["before": file($0.before), "after": file($0.after)]) }),
      "unchanged": .integer(Int64(unchanged)), "deleted_added": .array(deletedAdded.map(JSONValue.string)),
      "deleted_removed": .array(deletedRemoved.map(JSONValue.string)),
    ])
  }
}
