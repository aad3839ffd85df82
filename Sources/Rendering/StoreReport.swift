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
