import CRIU
import CheckpointKit
import CoreDump
import OCI
import SystemSupport

/// `--format json` of the commands whose tables people read: `show` (container checkpoints), `list`, `memparse`
/// (size table) and `coredump` (summary). Keys are snake_case, sizes are bytes, times RFC 3339, lists sorted as
/// the tables are; docs/json-schemas.md documents each schema.
extension ContainerShowReport {
  /// `[{path, container_name, image, id, runtime, created, checkpointed?, engine, pod_name?, namespace?,
  /// checkpoint_size, memory_pages_size, root_fs_diff_size}]`, one object per readable checkpoint, in the order
  /// given; then each pod checkpoint's containers, each with `pod` {path, name, namespace, uid, sandbox_id, runtime,
  /// runtime_handler?, layout, checkpointed?, container_count, size}.
  public var json: String {
    let podContainers = pods.flatMap { pod, containers in
      containers.map { container -> JSONValue in
        guard case .object(var object) = container.showJSON else { return container.showJSON }
        object["pod"] = pod.showJSON
        return .object(object)
      }
    }
    return JSONValue.array(checkpoints.map(\.showJSON) + podContainers).formatted(keyOrder: Self.jsonKeys) + "\n"
  }

  static let jsonKeys = [
    "path", "container_name", "image", "id", "runtime", "created", "checkpointed", "engine", "pod_name", "namespace",
    "checkpoint_size", "memory_pages_size", "root_fs_diff_size", "pod", "sandbox_id", "runtime_handler",
    "container_count", "size", "name", "uid", "layout",
  ]
}

extension PodCheckpoint {
  /// The pod, as `show` and `inspect` give it in JSON.
  public var showJSON: JSONValue {
    var object: [String: JSONValue] = [
      "path": .string(path), "name": .string(name), "namespace": .string(namespace), "uid": .string(uid),
      "sandbox_id": .string(sandboxID), "runtime": .string(runtime), "layout": .string(layout.rawValue),
      "container_count": .integer(Int64(containers.count)), "size": .integer(size),
    ]
    if let runtimeHandler { object["runtime_handler"] = .string(runtimeHandler) }
    if let checkpointed { object["checkpointed"] = .string(checkpointed.rfc3339) }
    return .object(object)
  }
}

extension ContainerCheckpoint {
  var showJSON: JSONValue {
    var object: [String: JSONValue] = [
      "path": .string(path), "container_name": .string(name), "image": .string(image), "id": .string(id),
      "runtime": .string(runtime), "created": .string(created), "engine": .string(engine.displayName),
      "checkpoint_size": .integer(checkpointSize), "memory_pages_size": .integer(pagesSize),
      "root_fs_diff_size": .integer(rootFSDiffSize),
    ]
    if let checkpointed = checkpointTime { object["checkpointed"] = .string(checkpointed.rfc3339) }
    if !podName.isEmpty { object["pod_name"] = .string(podName) }
    if !namespace.isEmpty { object["namespace"] = .string(namespace) }
    return .object(object)
  }
}

extension CheckpointList {
  /// `{directories: [dir], checkpoints: [{namespace, pod, container, engine, time_checkpointed, checkpoint_name,
  /// path}], errors: [{path, error}]}`: `time_checkpointed` is RFC 3339 or null, checkpoints oldest first as in
  /// the table.
  public var json: String {
    let checkpoints: [JSONValue] = entries.map { entry in
      .object([
        "namespace": .string(entry.namespace), "pod": .string(entry.pod), "container": .string(entry.container),
        "engine": .string(entry.engine.displayName),
        "time_checkpointed": entry.time.map { .string($0.rfc3339) } ?? .null,
        "checkpoint_name": .string(entry.fileName), "path": .string(entry.path),
      ])
    }
    let errors: [JSONValue] = failures.map { .object(["path": .string($0.path), "error": .string($0.message)]) }
    return JSONValue.object([
      "directories": .array(directories.map(JSONValue.string)), "checkpoints": .array(checkpoints),
      "errors": .array(errors),
    ]).formatted(keyOrder: [
      "directories", "checkpoints", "errors", "namespace", "pod", "container", "engine", "time_checkpointed",
      "checkpoint_name", "path", "error",
    ]) + "\n"
  }
}

extension MemoryUsage {
  /// One checkpoint's `{source, processes: [{pid, process_name, memory_size, shared_memory_size}]}` (bytes).
  public static func jsonValue(_ rows: [Row], source: String) -> JSONValue {
    .object([
      "source": .string(source),
      "processes": .array(
        rows.map { row in
          .object([
            "pid": .unsigned(UInt64(row.pid)), "process_name": .string(row.name), "memory_size": .integer(row.memory),
            "shared_memory_size": .integer(row.sharedMemory),
          ])
        }),
    ])
  }

  static let jsonKeys = ["source", "processes", "pid", "process_name", "memory_size", "shared_memory_size"]
}

extension CoreDumpWriter.Result {
  /// `{pid, command, threads, path, size_on_disk, build_ids: [{path, id}]}`.
  public var jsonValue: JSONValue {
    .object([
      "pid": .unsigned(UInt64(pid)), "command": .string(name), "threads": .integer(Int64(threads)),
      "path": .string(path), "size_on_disk": .integer(sizeOnDisk),
      "build_ids": .array(buildIDs.map { .object(["path": .string($0.path), "id": .string($0.id)]) }),
    ])
  }

  /// `{cores: [...], skipped: [note]}` of one run.
  public static func json(_ results: [Self], skipped: [String]) -> String {
    JSONValue.object(["cores": .array(results.map(\.jsonValue)), "skipped": .array(skipped.map(JSONValue.string))])
      .formatted(keyOrder: [
        "cores", "skipped", "pid", "command", "threads", "path", "size_on_disk", "build_ids", "id",
      ]) + "\n"
  }
}

extension SingleLayerImage {
  /// `build --format json`: `{image, digest, manifest_digest, layer_digest, layer_size, annotations: {key: value}}`
  /// (digests as `sha256:…`, the index's first).
  public func json(image: String) -> String {
    JSONValue.object([
      "image": .string(image), "digest": .string(indexDescriptor.digest.description),
      "manifest_digest": .string(manifestDescriptor.digest.description),
      "layer_digest": .string(layer.digest.description), "layer_size": .integer(layer.size),
      "annotations": .object(annotations.mapValues(JSONValue.string)),
    ]).formatted(keyOrder: ["image", "digest", "manifest_digest", "layer_digest", "layer_size", "annotations"]) + "\n"
  }
}
