import Archive
import CRIU
import CheckpointKit
import SystemSupport

/// Renders a kubelet store's inventory for `show`.
public enum StoreReport {
  /// The seed's table: one row per container (a pod without containers still gets one), pod-level cells
  /// merged only over that pod's own rows.
  public static func table(_ inventory: StoreInventory, showPodUID: Bool) -> String {
    var headers = ["Pod", "Namespace", "Container", "Image", "Archive Found"]
    if showPodUID { headers.append("Pod UID") }
    var rows: [[BorderedTable.Cell]] = []
    for (pod, found) in zip(inventory.metadata.pods, inventory.archiveFound) {
      let containers: [(String, String)] =
        pod.containers.isEmpty ? [("", "")] : pod.containers.map { ($0.name, $0.image) }
      for (index, container) in containers.enumerated() {
        let merged = index > 0
        var row = [
          BorderedTable.Cell(pod.name, continuesAbove: merged),
          BorderedTable.Cell(pod.namespace, continuesAbove: merged),
          BorderedTable.Cell(container.0),
          BorderedTable.Cell(container.1),
          BorderedTable.Cell(found ? "true" : "false", continuesAbove: merged),
        ]
        if showPodUID { row.append(BorderedTable.Cell(pod.uid, continuesAbove: merged)) }
        rows.append(row)
      }
    }
    return "\nDisplaying data from \(inventory.source)\n\n" + BorderedTable(headers: headers, rows: rows).render()
  }

  /// Key order of ``json(_:)``.
  static let keyOrder = [
    "source", "version", "pods", "name", "namespace", "uid", "sandbox_id", "archive", "archive_found", "containers",
    "id", "image",
  ]

  /// A JSON document for scripts:
  /// `{"source", "version"?, "pods": [{"name", "namespace", "uid", "sandbox_id", "archive", "archive_found",
  /// "containers": [{"name", "id", "image"}]}]}`. `archive` is null when the SandboxID cannot name a file.
  public static func json(_ inventory: StoreInventory) -> String {
    var document: [String: JSONValue] = ["source": .string(inventory.source)]
    if let version = inventory.metadata.version { document["version"] = version }
    document["pods"] = .array(
      zip(inventory.metadata.pods, inventory.archiveFound).map { pod, found in
        .object([
          "name": .string(pod.name),
          "namespace": .string(pod.namespace),
          "uid": .string(pod.uid),
          "sandbox_id": .string(pod.sandboxID),
          "archive": pod.archiveName.map(JSONValue.string) ?? .null,
          "archive_found": .bool(found),
          "containers": .array(
            pod.containers.map { container in
              .object(["name": .string(container.name), "id": .string(container.id), "image": .string(container.image)])
            }),
        ])
      })
    return JSONValue.object(document).formatted(keyOrder: keyOrder) + "\n"
  }
}

extension StoreReport {
  /// A pod checkpoint store (`pod-checkpoints`): one row per pod checkpoint, by name, with the time its name gives,
  /// its runtime (and handler), its containers, its size and whether it is complete (`incomplete`: no manifest;
  /// `archive`: a `.tar` of one, not looked into; `unreadable`: reported after the table).
  public static func podTable(_ entries: [PodStoreEntry], source: String, showPodUID: Bool) -> String {
    var headers = ["Pod", "Namespace", "Time", "Runtime", "Containers", "Size", "State"]
    if showPodUID { headers.append("Pod UID") }
    let rows = entries.map { entry in
      let pod = entry.checkpoint
      var row = [
        entry.pod, entry.namespace, entry.time.text,
        pod.map { $0.runtime + ($0.runtimeHandler.map { " (\($0))" } ?? "") } ?? "",
        pod.map { $0.containers.map(\.name).joined(separator: ", ") } ?? "", ByteCount.format(entry.size),
        entry.stateName,
      ].map { BorderedTable.Cell(singleLine($0)) }
      if showPodUID { row.append(BorderedTable.Cell(singleLine(pod?.uid ?? ""))) }
      return row
    }
    return "\nDisplaying data from \(source)\n\n" + BorderedTable(headers: headers, rows: rows).render()
  }

  /// `{"source", "pod_checkpoints": [{"name", "pod", "namespace", "time", "state", "size", "error"?,
  /// "checkpoint"?: {path, name, namespace, uid, sandbox_id, runtime, runtime_handler?, layout, checkpointed?,
  /// container_count, size, containers: [{name, id}]}}]}`; `size` counts every file of the entry.
  public static func podJSON(_ entries: [PodStoreEntry], source: String) -> String {
    let values = entries.map { entry -> JSONValue in
      var object: [String: JSONValue] = [
        "name": .string(entry.name), "pod": .string(entry.pod), "namespace": .string(entry.namespace),
        "time": .string(entry.time.text), "state": .string(entry.stateName), "size": .integer(entry.size),
      ]
      if case .unreadable(let error) = entry.state { object["error"] = .string("\(error)") }
      if let pod = entry.checkpoint, case .object(var checkpoint) = pod.showJSON {
        checkpoint["containers"] = .array(
          pod.containers.map { .object(["name": .string($0.name), "id": .string($0.id)]) })
        object["checkpoint"] = .object(checkpoint)
      }
      return .object(object)
    }
    let keys = [
      "source", "pod_checkpoints", "name", "pod", "namespace", "time", "state", "size", "error", "checkpoint",
    ]
    return JSONValue.object(["source": .string(source), "pod_checkpoints": .array(values)]).formatted(
      keyOrder: keys + ContainerShowReport.jsonKeys + ["containers"]) + "\n"
  }
}

extension PodStoreEntry {
  /// The pod checkpoint, when complete.
  var checkpoint: PodCheckpoint? {
    guard case .complete(let pod) = state else { return nil }
    return pod
  }

  /// `complete`, `incomplete`, `archive` or `unreadable`.
  var stateName: String {
    switch state {
    case .complete: return "complete"
    case .incomplete: return "incomplete"
    case .archive: return "archive"
    case .unreadable: return "unreadable"
    }
  }
}
