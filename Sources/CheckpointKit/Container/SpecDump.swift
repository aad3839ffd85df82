/// `spec.dump`: the container's OCI runtime spec. checkpointctl needs only its annotations, which say which
/// engine made the checkpoint and, for Kubernetes engines, the container's pod.
public struct SpecDump: Codable, Equatable, Sendable {
  /// The member's name in a container checkpoint.
  public static let fileName = CheckpointMember.spec.name

  /// Names the engine: `libpod` (Podman), `cri-o`; containerd writes none.
  public static let containerManager = "io.container.manager"
  /// CRI-O: JSON `{"name": …, "attempt": …}` of the container.
  public static let crioMetadata = "io.kubernetes.cri-o.Metadata"
  /// CRI-O: the container's creation time (RFC 3339).
  public static let crioCreated = "io.kubernetes.cri-o.Created"
  /// CRI-O: the container's first IP address.
  public static let crioIP = "io.kubernetes.cri-o.IP.0"
  /// CRI-O: the pod's name.
  public static let podName = "io.kubernetes.pod.name"
  /// CRI-O: the pod's namespace.
  public static let podNamespace = "io.kubernetes.pod.namespace"
  /// containerd (CRI): the container's name.
  public static let criContainerName = "io.kubernetes.cri.container-name"
  /// containerd (CRI): the pod's name.
  public static let criSandboxName = "io.kubernetes.cri.sandbox-name"
  /// containerd (CRI): the pod's namespace.
  public static let criSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"

  /// The spec's annotations (empty when it has none).
  public var annotations: [String: String]

  /// A spec with these annotations.
  public init(annotations: [String: String] = [:]) {
    self.annotations = annotations
  }

  /// Decodes `spec.dump`; `source` names the checkpoint in errors.
  public init(json bytes: [UInt8], source: String) throws {
    self = try decodeMember(Self.self, bytes, source: source, member: Self.fileName)
  }

  enum CodingKeys: String, CodingKey {
    case annotations
  }

  /// Decodes the spec; everything but `annotations` is ignored.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
  }
}
