import Archive
import CRIU
import CheckpointKit
import SystemSupport
import TestSupport

/// CRI-O- and containerd-style checkpoint archives, built from a Podman fixture's CRIU images and the
/// `config.dump` / `spec.dump` shapes those engines write (FORMATS.md §3.5, REFERENCE.md §2.4).
enum EngineArchives {
  /// CRI-O: checkpointctl's `ContainerConfig` with `checkpointedTime`; engine, name and pod in annotations.
  static let crioConfig = """
    {"id": "6924be1bd90c23f10e2667102b0ee0f74f09bba78b6661871e733cb3b1737821",
     "name": "k8s_counter_counters_default_6975ee47-6765-45dc-9a2b-1e38d51031f7_0",
     "rootfsImage": "quay.io/adrianreber/counter:latest",
     "rootfsImageRef": "a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",
     "rootfsImageName": "quay.io/adrianreber/counter:latest", "runtime": "runc",
     "createdTime": "2024-01-27T14:45:26.083444055Z", "checkpointedTime": "2024-01-28T00:10:45.673538606+05:30",
     "restoredTime": "0001-01-01T00:00:00Z", "restored": false}
    """

  /// CRI-O's spec annotations; `created` nil leaves `io.kubernetes.cri-o.Created` out.
  static func crioSpec(
    metadata: String? = #"{"name":"counter","attempt":1}"#, created: String? = "2024-01-27T14:45:26Z"
  )
    -> String
  {
    var annotations: [String: String] = [
      "io.container.manager": "cri-o", "io.kubernetes.pod.name": "counters",
      "io.kubernetes.pod.namespace": "default", "io.kubernetes.cri-o.IP.0": "10.85.0.9",
    ]
    if let metadata { annotations["io.kubernetes.cri-o.Metadata"] = metadata }
    if let created { annotations["io.kubernetes.cri-o.Created"] = created }
    return spec(annotations)
  }

  /// containerd: `runtime` is the shim, the container and pod names are CRI annotations, no manager annotation.
  static let containerdConfig = """
    {"id": "b1f6bd7b0e8a4a4c7e3ce2b1a0f4ed6c0fe5d0b7a4c1b9e2f3a4d5c6b7a8f9e0", "name": "nginx",
     "rootfsImage": "docker.io/library/nginx:latest", "rootfsImageRef": "sha256:605c77e624ddb75e6110f997c58876ba",
     "rootfsImageName": "docker.io/library/nginx:latest", "runtime": "io.containerd.runc.v2",
     "createdTime": "2024-02-09T10:11:12.5+01:00", "checkpointedTime": "2024-02-09T10:20:00.25+01:00",
     "restoredTime": "0001-01-01T00:00:00Z", "restored": false}
    """

  /// containerd's spec annotations.
  static let containerdSpec = spec([
    "io.kubernetes.cri.container-name": "web", "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.sandbox-name": "web-0", "io.kubernetes.cri.sandbox-namespace": "prod",
    "io.kubernetes.cri.image-name": "docker.io/library/nginx:latest",
  ])

  /// A spec.dump with these annotations and a little of the rest of an OCI spec.
  static func spec(_ annotations: [String: String]) -> String {
    let pairs = annotations.sorted { $0.key < $1.key }.map { key, value in
      "\(jsonString(key)): \(jsonString(value))"
    }
    return #"{"ociVersion": "1.0.2-dev", "process": {"args": ["counter"]}, "annotations": {"#
      + pairs.joined(separator: ", ") + "}}"
  }

  /// A JSON string literal.
  static func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }

  /// The `checkpoint/` members of a fixture (its CRIU images).
  static func images(from fixture: String = "busybox-sleep.tar") throws -> [TestArchive.Member] {
    try TestArchive.read(Fixtures.path(fixture)).compactMap { entry, bytes in
      guard entry.kind == .regular, entry.path.hasPrefix("checkpoint/") else { return nil }
      return .file(entry.path, bytes)
    }
  }

  /// Writes a checkpoint archive: the fixture's images plus these metadata members (nil leaves one out).
  /// `prefix` goes before every name (`./`, as `tar -C dir .` writes them).
  static func write(
    to path: String, config: String?, spec: String?, extra: [TestArchive.Member] = [],
    compression: ArchiveFilter = .none, prefix: String = ""
  ) throws {
    var members: [TestArchive.Member] = [.directory(prefix + "checkpoint/")]
    for case .file(let name, let bytes) in try images() { members.append(.file(prefix + name, bytes)) }
    if let config { members.append(.file(prefix + "config.dump", Array(config.utf8))) }
    if let spec { members.append(.file(prefix + "spec.dump", Array(spec.utf8))) }
    try TestArchive.write(members + extra, to: path, compression: compression)
  }
}
