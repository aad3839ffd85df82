import Archive
import CRIU
import FoundationEssentials
import OCI
import SystemSupport

/// What a container checkpoint (Podman, CRI-O or containerd; an archive or an unpacked directory) says about its
/// container: the metadata `show`, `list` and `inspect` display, read from `config.dump` and `spec.dump`, and the
/// sizes of its parts from the member index (no image is read).
public struct ContainerCheckpoint: Sendable {
  /// The checkpoint as the user named it.
  public var path: String
  /// `config.dump`.
  public var config: ContainerConfig
  /// `spec.dump`'s annotations.
  public var annotations: [String: String]
  /// The engine that wrote it.
  public var engine: Engine
  /// The container's name: Podman's name, CRI-O's `io.kubernetes.cri-o.Metadata` name, containerd's
  /// `io.kubernetes.cri.container-name` (else `config.dump`'s name).
  public var name: String
  /// Creation time as shown: RFC 3339 from `config.dump` (whole seconds, in the written offset), or CRI-O's
  /// `io.kubernetes.cri-o.Created` annotation verbatim when present.
  public var created: String
  /// The pod's name (CRI-O and containerd), empty for Podman.
  public var podName: String
  /// The pod's namespace (CRI-O and containerd), empty for Podman.
  public var namespace: String
  /// Sum of the regular files under `checkpoint/` (CRIU images), in bytes.
  public var checkpointSize: Int64
  /// Sum of the `checkpoint/pages-*` files, in bytes.
  public var pagesSize: Int64
  /// Size of `rootfs-diff.tar` (0 when absent).
  public var rootFSDiffSize: Int64
  /// When CRIU wrote the images: the modification time of `checkpoint/inventory.img`, else of the newest
  /// member (Podman records no checkpoint time in `config.dump`; see ``checkpointTime``).
  public var imagesWritten: Timestamp?

  /// Members read into memory: the two metadata files (sizes come from the member index).
  public static let selection = CheckpointSource.Selection(memory: { name in
    name == ContainerConfig.fileName || name == SpecDump.fileName
  })

  /// The member holding the root file system changes.
  public static let rootFSDiff = CheckpointMember.rootFSDiff.name

  /// Opens `path` (an archive of any compression, or an unpacked container checkpoint directory) and reads it.
  public init(path: String, registry: RegistryOptions = RegistryOptions()) throws {
    try self.init(source: CheckpointSource(path: path, selection: Self.selection, registry: registry))
  }

  /// Reads the metadata of an opened checkpoint, which must have `config.dump`, `spec.dump` and a `checkpoint/`
  /// directory (possibly empty: the metadata alone is enough here). Checked in this order, stopping at the first
  /// failure as upstream does (an empty archive fails earlier, when it is opened).
  public init(source: CheckpointSource) throws {
    let path = source.displayPath
    if source.kind == .imageDirectory && !source.contains(ContainerConfig.fileName) {
      throw ContainerCheckpointError.imageDirectory(path)
    }
    let config =
      try source.derivedConfig ?? ContainerConfig(json: source.bytes(of: ContainerConfig.fileName), source: path)
    let spec = try SpecDump(json: source.bytes(of: SpecDump.fileName), source: path)
    guard source.hasImageDirectory else { throw ContainerCheckpointError.notAContainerCheckpoint(path) }
    try self.init(path: path, config: config, spec: spec)
    try measure(source)
    // A containerd image records no checkpoint time: its images were written when the checkpoint was made.
    if source.derivedConfig != nil && self.config.checkpointedTime == nil {
      self.config.checkpointedTime = imagesWritten?.rfc3339
    }
  }

  /// A bare CRIU image directory or an archive of one (``holdsBareImages(_:)``): no container metadata, engine
  /// ``Engine/criu``, sizes from every image.
  public init(bareImages source: CheckpointSource) throws {
    try self.init(path: source.displayPath, config: ContainerConfig(), spec: SpecDump())
    engine = .criu
    try measure(source)
  }

  /// True when `source` is `criu dump`'s output as it is: CRIU images at its top, no container metadata.
  public static func holdsBareImages(_ source: CheckpointSource) -> Bool {
    source.imagePrefix.isEmpty && !source.contains(ContainerConfig.fileName)
      && (source.contains(CRIUImage.pstree.name) || source.contains(CRIUImage.inventory.name))
  }

  /// The sizes of the images and of `rootfs-diff.tar`, and when the images were written.
  private mutating func measure(_ source: CheckpointSource) throws {
    var checkpointSize: Int64 = 0
    var pagesSize: Int64 = 0
    for name in source.memberNames where name.hasPrefix(source.imagePrefix) {
      let size = try source.size(of: name)
      checkpointSize += size
      if CRIUImage.Kind(of: Path.base(of: name)) == .pages { pagesSize += size }
    }
    self.checkpointSize = checkpointSize
    self.pagesSize = pagesSize
    rootFSDiffSize = source.contains(Self.rootFSDiff) ? try source.size(of: Self.rootFSDiff) : 0
    let times = source.modificationTimes
    imagesWritten = (times[source.memberPath(.inventory)] ?? times.values.max())
      .flatMap { Timestamp(unixSeconds: $0) }
  }

  /// When the checkpoint was made: `config.dump`'s `checkpointedTime` (CRI-O, containerd), else when CRIU
  /// wrote the images.
  public var checkpointTime: Timestamp? { checkpointed ?? imagesWritten }

  /// The engine-specific fields from already decoded metadata (sizes 0).
  public init(path: String, config: ContainerConfig, spec: SpecDump) throws {
    self.path = path
    self.config = config
    annotations = spec.annotations
    engine = Engine(containerManager: spec.annotations[SpecDump.containerManager])
    let configCreated = config.created?.rfc3339 ?? config.createdTime ?? ""
    switch engine {
    case .podman:
      name = config.name ?? ""
      created = configCreated
      podName = ""
      namespace = ""
    case .crio:
      name = try Self.crioName(spec.annotations[SpecDump.crioMetadata], source: path)
      // Upstream leaves it empty without the annotation; the container's creation time is what it means.
      created = spec.annotations[SpecDump.crioCreated] ?? configCreated
      podName = spec.annotations[SpecDump.podName] ?? ""
      namespace = spec.annotations[SpecDump.podNamespace] ?? ""
    case .containerd, .criu:
      name = spec.annotations[SpecDump.criContainerName] ?? config.name ?? ""
      created = configCreated
      podName = spec.annotations[SpecDump.criSandboxName] ?? ""
      namespace = spec.annotations[SpecDump.criSandboxNamespace] ?? ""
    }
    checkpointSize = 0
    pagesSize = 0
    rootFSDiffSize = 0
    imagesWritten = nil
  }

  /// The image name (`rootfsImageName`).
  public var image: String { config.rootfsImageName ?? "" }
  /// The full container ID.
  public var id: String { config.id ?? "" }
  /// The ID as tables show it: its first 12 characters.
  public var shortID: String { String(id.prefix(12)) }
  /// The OCI runtime.
  public var runtime: String { config.runtime ?? "" }
  /// When the checkpoint was made (`checkpointedTime`; Podman does not record it).
  public var checkpointed: Timestamp? { config.checkpointed }
  /// CRI-O's recorded IP address, if any.
  public var ipAddress: String? { annotations[SpecDump.crioIP] }

  /// The `name` of CRI-O's metadata annotation, a JSON object `{"name": …, "attempt": …}`.
  static func crioName(_ annotation: String?, source: String) throws -> String {
    struct Metadata: Decodable {
      var name: String?
    }
    guard let annotation else {
      throw ContainerCheckpointError.invalidCRIOMetadata(source: source, reason: "the annotation is missing")
    }
    do {
      return try JSONDecoder().decode(Metadata.self, from: Data(annotation.utf8)).name ?? ""
    } catch {
      throw ContainerCheckpointError.invalidCRIOMetadata(
        source: source, reason: "\(quoted(annotation)) is not a JSON object with a string name")
    }
  }
}
