import Archive
import CRIU
import CheckpointKit
import SystemSupport

extension InspectReport {
  /// Annotations whose JSON values are shown expanded, as upstream does.
  static let jsonAnnotations: Set<String> = [
    "io.kubernetes.cri-o.Labels", "io.kubernetes.cri-o.Annotations", "io.kubernetes.cri-o.Metadata",
    "kubectl.kubernetes.io/last-applied-configuration",
  ]

  /// The tree view upstream prints for one checkpoint, with a deterministic order where upstream's is random
  /// (annotations and environment variables sorted by name).
  public var tree: Tree {
    var root = Tree(checkpoint.name.isEmpty ? "Container" : checkpoint.name)
    if checkpoint.engine == .criu {
      // A bare image directory has no container to describe.
      root = Tree("CRIU images")
    } else {
      root.add("Image: \(checkpoint.image)")
      root.add("ID: \(checkpoint.id)")
      root.add("Runtime: \(checkpoint.runtime)")
      root.add("Created: \(checkpoint.created)")
    }
    if let checkpointed = checkpoint.checkpointed, !checkpointed.isZero {
      root.add("Checkpointed: \(checkpointed.rfc3339)")
    }
    root.add("Engine: \(checkpoint.engine.displayName)")
    if checkpoint.engine == .podman, !network.networks.isEmpty {
      // Upstream's tree: one branch per interface, each empty field left out.
      root.add(
        Tree(
          "Network Interfaces",
          network.interfaces.map { interface in
            Tree(
              "\(interface.network) (\(interface.interface))",
              [("IP", interface.ip), ("MAC", interface.mac), ("Gateway", interface.gateway)]
                .filter { !$0.1.isEmpty }.map { Tree("\($0.0): \($0.1)") })
          }))
    } else if checkpoint.engine != .podman, let ip = checkpoint.ipAddress, !ip.isEmpty {
      root.add("IP: \(ip)")
    }
    var size = Tree("Checkpoint size: \(ByteCount.format(checkpoint.checkpointSize))")
    if checkpoint.pagesSize > 0 { size.add("Memory pages size: \(ByteCount.format(checkpoint.pagesSize))") }
    root.add(size)
    if checkpoint.rootFSDiffSize > 0 { root.add("Root FS diff size: \(ByteCount.format(checkpoint.rootFSDiffSize))") }
    if let statistics { root.add(statistics.tree) }
    if showsMetadata { root.add(metadataTree) }
    if let processTree { root.add(Tree("Process tree", processTree.map(\.tree))) }
    if let mounts {
      root.add(
        Tree(
          "Overview of mounts",
          mounts.map { mount in
            Tree("Destination: \(mount.destination)", [Tree("Type: \(mount.type)"), Tree("Source: \(mount.source)")])
          }))
    }
    if let rootFSDiff { root.add(rootFSDiff.tree) }
    if let devShm { root.add(devShm?.tree ?? Tree("/dev/shm: not in the checkpoint")) }
    if let volumes { root.add(volumes.isEmpty ? Tree("Volumes: none") : Tree("Volumes", volumes.map(\.tree))) }
    if let criu { root.add(criu.tree) }
    if let containerLog { root.add(containerLog?.tree ?? Tree("Container log: not in the checkpoint")) }
    return root
  }

  /// `\nDisplaying container checkpoint tree view from <path>\n\n`, the tree, and an empty line.
  public func treeText(path: String) -> String {
    "\nDisplaying container checkpoint tree view from \(path)\n\n" + tree.rendered + "\n"
  }

  var metadataTree: Tree {
    var node = Tree("Metadata")
    if !checkpoint.podName.isEmpty { node.add("Pod name: \(checkpoint.podName)") }
    if !checkpoint.namespace.isEmpty { node.add("Kubernetes namespace: \(checkpoint.namespace)") }
    if !checkpoint.annotations.isEmpty {
      node.add(
        Tree(
          "Annotations",
          checkpoint.annotations.keys.sorted().map { key in
            let value = checkpoint.annotations[key] ?? ""
            if key == Self.crioVolumes, let volumes = try? JSONValue(parsing: Array(value.utf8)).arrayValue {
              return Tree(key, volumes.map(Self.volumeTree))
            }
            if Self.jsonAnnotations.contains(key), let json = try? JSONValue(parsing: Array(value.utf8)),
              json.objectValue != nil || json.arrayValue != nil
            {
              return Tree(key, Self.jsonTrees(json))
            }
            return Tree("\(key): \(value)")
          }))
    }
    return node
  }

  /// CRI-O's volumes annotation: a JSON array of `{container_path, host_path, readonly, selinux_relabel,
  /// recursive_read_only, propagation}`.
  static let crioVolumes = "io.kubernetes.cri-o.Volumes"

  /// One CRI-O volume: its container path, then its fields in words.
  static func volumeTree(_ volume: JSONValue) -> Tree {
    let fields = volume.objectValue ?? [:]
    let labels = [
      ("host_path", "host path"), ("readonly", "read-only"), ("selinux_relabel", "selinux relabel"),
      ("recursive_read_only", "recursive read-only"), ("propagation", "propagation"),
    ]
    return Tree(
      fields["container_path"].map(scalarText) ?? "-",
      labels.compactMap { key, label in fields[key].map { Tree("\(label): \(scalarText($0))") } })
  }

  /// An object's members (sorted) or an array's elements as tree nodes: scalars as `key: value`.
  static func jsonTrees(_ value: JSONValue) -> [Tree] {
    if let object = value.objectValue {
      return object.keys.sorted().map { key in
        let member = object[key] ?? .null
        if member.objectValue != nil || member.arrayValue != nil { return Tree(key, jsonTrees(member)) }
        return Tree("\(key): \(scalarText(member))")
      }
    }
    if let array = value.arrayValue {
      return array.map { element in
        if element.objectValue != nil || element.arrayValue != nil { return Tree("-", jsonTrees(element)) }
        return Tree(scalarText(element))
      }
    }
    return [Tree(scalarText(value))]
  }

  static func scalarText(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): return text
    case .null: return "null"
    default: return value.formatted()
    }
  }
}

extension DumpStatistics {
  /// "CRIU dump statistics" with times in µs/ms/s.
  var tree: Tree {
    Tree(
      "CRIU dump statistics",
      [
        Tree("Freezing time: \(Self.duration(microseconds: freezingTime))"),
        Tree("Frozen time: \(Self.duration(microseconds: frozenTime))"),
        Tree("Memdump time: \(Self.duration(microseconds: memdumpTime))"),
        Tree("Memwrite time: \(Self.duration(microseconds: memwriteTime))"),
        Tree("Pages scanned: \(pagesScanned)"),
        Tree("Pages written: \(pagesWritten)"),
      ])
  }
}

extension InspectedProcess {
  /// `[PID]  name-or-command`, then environment, open files, open sockets, threads (`[TID]  name`), memory maps
  /// (`start-end rwxp offset name  (rss 72.0 KiB)`) and children; zombies as
  /// `[PID (Zombie)]  name` with nothing below.
  var tree: Tree {
    let label = commandLine.flatMap { $0.isEmpty ? nil : $0 } ?? process.name
    switch process.state {
    case .alive: break
    default: return Tree("[\(pid) (\(process.state))]  \(label)", process.state.hasResources ? details : [])
    }
    return Tree("[\(pid)]  \(label)", details)
  }

  var details: [Tree] {
    var nodes: [Tree] = []
    if let environment, !environment.isEmpty {
      nodes.append(Tree("Environment variables", environment.map { Tree($0.text) }))
    }
    if let files, !files.isEmpty {
      nodes.append(
        Tree(
          "Open files",
          files.map { file in
            Tree(
              file.type.isEmpty
                ? "[\(file.descriptor)]  \(file.path)" : "[\(file.type) \(file.descriptor)]  \(file.path)")
          }))
    }
    if let sockets, !sockets.isEmpty {
      nodes.append(Tree("Open sockets", sockets.map { Tree("[\($0.label)]  \($0.summary)") }))
    }
    if let threads, !threads.isEmpty {
      nodes.append(Tree("Threads", threads.map { Tree("[\($0.tid)]  \($0.name)") }))
    }
    if let memoryMaps, !memoryMaps.isEmpty {
      nodes.append(
        Tree(
          "Memory maps",
          memoryMaps.map { Tree("\($0.mapsLine)  (rss \(ByteCount.format($0.resident)))") }))
    }
    return nodes + children.map(\.tree)
  }
}

extension RootFSDiff {
  /// "Root FS diff" with `path  (size, mode)` lines, then "Deleted files" with one path a line when there are
  /// deleted files.
  var tree: Tree {
    var node = Tree("Root FS diff", files.map { $0.tree() })
    if !deleted.isEmpty { node.add(Tree("Deleted files", deleted.map { Tree($0) })) }
    return node
  }
}

extension CRIUSummary {
  /// "CRIU" with the image version, plugins, LSM and run id when known, then "Dump log" with its last lines.
  var tree: Tree {
    var node = Tree("CRIU")
    if let imageVersion { node.add("Image version: \(imageVersion)") }
    node.add("Plugins: \(plugins.isEmpty ? "none" : plugins.joined(separator: ", "))")
    if let lsmType { node.add("LSM: \(lsmType)") }
    if let dumpRunID { node.add("Dump run ID: \(dumpRunID)") }
    if let dumpLog {
      // As upstream prints them, tabs included; a line with other control characters (a terminal escape written
      // into a hostile checkpoint's log) is escaped.
      let lines = dumpLog.map { line in
        line.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7f } ? singleLine(line) : line
      }
      node.add(Tree("Dump log (last \(Self.dumpLogLines) lines)", lines.map { Tree($0) }))
    }
    return node
  }
}

extension ArchivedFile {
  /// `path  (size, mode)`, the path below `directory` when given, on one line whatever it holds.
  func tree(in directory: String = "") -> Tree {
    let shown = directory.isEmpty ? path : Path.join(directory, path)
    return Tree("\(singleLine(shown))  (\(ByteCount.format(size)), \(mode))")
  }
}

extension SavedDirectory {
  /// `/dev/shm` or `name → destination`, then `(member, tar size, N entries)` and a `path  (size, mode)` line per
  /// member, below the destination when known.
  var tree: Tree {
    let member = name.isEmpty ? Self.devShmName : Self.volumeDirectory + name + ".tar"
    var label =
      name.isEmpty ? destination : singleLine(name) + (destination.isEmpty ? "" : " → \(singleLine(destination))")
    label +=
      " (\(singleLine(member)), \(ByteCount.format(size)), \(files.count) \(files.count == 1 ? "entry" : "entries"))"
    return Tree(label, files.map { $0.tree(in: destination) })
  }
}

extension ContainerLog {
  /// `Container log (name, size, last N lines)` and the lines, each printable on one line (control characters and
  /// bytes that are not UTF-8 escaped); a first line cut by the read limit starts with `…`.
  var tree: Tree {
    let count = lines.isEmpty ? "" : ", last \(lines.count == 1 ? "line" : "\(lines.count) lines")"
    return Tree(
      "Container log (\(singleLine(name)), \(ByteCount.format(size))\(count))",
      lines.enumerated().map { index, line in Tree((index == 0 && partialFirstLine ? "…" : "") + printableLine(line)) })
  }
}
