import FoundationEssentials

/// The CRI objects a pod checkpoint embeds, as Go's `encoding/json` writes the generated structs: proto field
/// names in snake_case, every field optional (zero values are omitted). Only what checkpointctl shows is modelled;
/// other keys are ignored.
public enum PodCRI {
  /// `metadata` of a sandbox or a container.
  public struct Metadata: Codable, Equatable, Sendable {
    public var name: String?
    public var uid: String?
    public var namespace: String?
    public var attempt: UInt32?
  }

  /// `PodSandboxConfig` (`pod-config.json`, legacy `pod.dump`).
  public struct SandboxConfig: Codable, Equatable, Sendable {
    public var metadata: Metadata?
    public var hostname: String?
    public var logDirectory: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    enum CodingKeys: String, CodingKey {
      case metadata, hostname, labels, annotations
      case logDirectory = "log_directory"
    }
  }

  /// An `ImageSpec`.
  public struct Image: Codable, Equatable, Sendable {
    public var image: String?
    public var userSpecifiedImage: String?

    enum CodingKeys: String, CodingKey {
      case image
      case userSpecifiedImage = "user_specified_image"
    }
  }

  /// A `KeyValue` of `envs`.
  public struct KeyValue: Codable, Equatable, Sendable {
    public var key: String?
    public var value: String?
  }

  /// `ContainerConfig`, as the container was created.
  public struct ContainerConfig: Codable, Equatable, Sendable {
    public var metadata: Metadata?
    public var image: Image?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var envs: [KeyValue]?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var logPath: String?
    public var tty: Bool?

    enum CodingKeys: String, CodingKey {
      case metadata, image, command, args, envs, labels, annotations, tty
      case workingDir = "working_dir"
      case logPath = "log_path"
    }
  }

  /// `ContainerStatus`, when the container was checkpointed (containerd's layout).
  public struct ContainerStatus: Codable, Equatable, Sendable {
    public var id: String?
    public var state: Int?
    public var createdAt: Int64?
    public var startedAt: Int64?
    public var image: Image?
    public var imageRef: String?
    public var imageID: String?

    enum CodingKeys: String, CodingKey {
      case id, state, image
      case createdAt = "created_at"
      case startedAt = "started_at"
      case imageRef = "image_ref"
      case imageID = "image_id"
    }
  }

  /// The manifest of both KEP-5823 layouts (`checkpoint-manifest.json`); which keys are there depends on the
  /// layout (``PodCheckpoint/Layout``).
  struct Manifest: Codable, Sendable {
    var version: Int?
    var runtime: String?
    var runtimeHandler: String?
    var sandboxId: String?
    var containers: [Entry]?

    struct Entry: Codable, Sendable {
      var name: String?
      var id: String?
      var archive: String?
      var sha256: String?
      var config: ContainerConfig?
      var status: ContainerStatus?
    }
  }

  /// The legacy layout's `pod.options` (checkpointctl's `CheckpointedPodOptions`).
  struct PodOptions: Codable, Sendable {
    var version: Int?
    var containers: [String: String]?
    var annotations: [String: String]?
  }
}
