import CheckpointKit
import SystemSupport

extension PodCheckpoint {
  /// `inspect`'s view of the pod, before its containers' trees.
  public var treeText: String {
    var tree = Tree(name.isEmpty ? Path.base(of: path) : name)
    if !namespace.isEmpty { tree.add("Namespace: \(namespace)") }
    if !uid.isEmpty { tree.add("UID: \(uid)") }
    if !sandboxID.isEmpty { tree.add("Sandbox ID: \(sandboxID)") }
    tree.add("Runtime: \(runtime)" + (runtimeHandler.map { " (\($0))" } ?? ""))
    tree.add("Layout: \(layout.rawValue)")
    if let checkpointed { tree.add("Checkpointed: \(checkpointed.rfc3339)") }
    if let hostname = sandbox.hostname, !hostname.isEmpty { tree.add("Hostname: \(hostname)") }
    if let labels = sandbox.labels, !labels.isEmpty {
      tree.add(Tree("Labels", labels.sorted { $0.key < $1.key }.map { Tree("\($0.key): \($0.value)") }))
    }
    tree.add("Size: \(ByteCount.format(size))")
    tree.add(
      Tree(
        "Containers",
        containers.map { container in
          Tree("\(container.name) (\(container.id.prefix(12))): \(singleLine(container.location))")
        }))
    return "\nDisplaying pod checkpoint tree view from \(path)\n\n" + tree.rendered + "\n"
  }
}

/// One checkpoint argument of `inspect`: a container checkpoint, or a pod checkpoint with its containers.
public enum InspectedCheckpoint: Sendable {
  case container(InspectReport)
  case pod(PodCheckpoint, [InspectReport])

  /// Adds the report of the checkpoint at `path` to `checkpoints`: to the last pod's when it is one of its
  /// containers, else as a container checkpoint of its own.
  public static func add(_ report: InspectReport, of path: String, to checkpoints: inout [InspectedCheckpoint]) {
    guard case .pod(let pod, let reports)? = checkpoints.last,
      pod.containers.contains(where: { pod.path(of: $0) == path })
    else { return checkpoints.append(.container(report)) }
    checkpoints[checkpoints.count - 1] = .pod(pod, reports + [report])
  }

  /// `--format json`: the container checkpoints' objects as upstream has them, and for each pod checkpoint
  /// `{"pod": {...}, "containers": [<the container objects>]}`, in the order given.
  public static func json(_ checkpoints: [InspectedCheckpoint]) -> String {
    let values = checkpoints.map { checkpoint -> JSONValue in
      switch checkpoint {
      case .container(let report): return report.jsonValue
      case .pod(let pod, let reports):
        return .object(["pod": pod.showJSON, "containers": .array(reports.map(\.jsonValue))])
      }
    }
    return JSONValue.array(values).formatted(keyOrder: ["pod", "containers"] + InspectReport.keyOrder)
  }
}

extension PodDiff {
  /// The tree: the two pods, the containers added and removed, then each container's comparison as `diff`
  /// shows two container checkpoints, under `Container NAME`.
  public func renderTree(options: CheckpointDiff.Options, _ write: (String) throws -> Void) throws {
    var tree = Tree("Pod checkpoint diff: \(a.name) (\(a.namespace))")
    for (label, pod) in [("A", a), ("B", b)] {
      tree.add("\(label): \(pod.path), \(pod.checkpointed?.rfc3339 ?? "-"), \(pod.containers.count) containers")
    }
    tree.add(Tree("Added containers", added.map { Tree($0) }))
    tree.add(Tree("Removed containers", removed.map { Tree($0) }))
    tree.add(Tree("Compared containers", pairs.map { Tree($0.name) }))
    try write(tree.rendered + "\n")
    try compare(options: options) { name, diff in
      try write("Container \(name)\n\n")
      try diff.renderTree(write)
    }
  }

  /// `{"pod_a": {...}, "pod_b": {...}, "added": [names], "removed": [names], "containers": [{"name": NAME,
  /// "diff": <diff's object for two container checkpoints>}]}`.
  public func json(options: CheckpointDiff.Options) throws -> String {
    var containers: [JSONValue] = []
    try compare(options: options) { name, diff in
      containers.append(.object(["name": .string(name), "diff": diff.jsonValue]))
    }
    let object: [String: JSONValue] = [
      "pod_a": a.showJSON, "pod_b": b.showJSON, "added": .array(added.map { .string($0) }),
      "removed": .array(removed.map { .string($0) }), "containers": .array(containers),
    ]
    return JSONValue.object(object).formatted(
      keyOrder: ["pod_a", "pod_b", "added", "removed", "containers", "diff"] + CheckpointDiff.keyOrder) + "\n"
  }
}
