import Archive
import SystemSupport

extension PodCheckpoint {
  /// The layouts of pod checkpoints, each read here and nowhere else: the runtimes' pull requests may still change
  /// them, and a change is then one case.
  public enum Layout: String, Sendable, Equatable {
    /// CRI-O (manifest `version` 1, `runtime` "cri-o"): `containers/<sha256(id)>.tar`, ordinary CRI-O container
    /// checkpoint archives, each with its SHA-256 in the manifest.
    case crio = "cri-o"
    /// containerd (manifest `version` 2): `container-<sha256(id)>.tar`, each an OCI image layout holding
    /// containerd's native checkpoint image; the manifest has each container's CRI status.
    case containerd
    /// The earlier proposal: `pod.options`, `pod.dump` and one `<id>-<name>/` container checkpoint directory per
    /// container.
    case legacy

    public static let manifestName = "checkpoint-manifest.json"
    static let sandboxConfigName = "pod-config.json"
    static let legacyOptionsName = "pod.options"
    static let legacySandboxName = "pod.dump"
    /// The runtimes' limits on their JSON files (containerd's manifest may be 16 MiB, CRI-O's and the rest 4 MiB).
    static let manifestLimit: Int64 = 16 << 20
    static let jsonLimit: Int64 = 4 << 20

    /// True for a container name as Kubernetes allows them (letters, digits, `-`, `.`, `_`, starting with a letter
    /// or digit, at most 253 characters): it names a directory of `coredump` and never leaves it.
    static func isValidName(_ name: String) -> Bool {
      let bytes = Array(name.utf8)
      func alphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
      }
      guard let first = bytes.first, alphanumeric(first), bytes.count <= 253 else { return false }
      return bytes.allSatisfy { alphanumeric($0) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f }
    }

    /// The layout a manifest's `version` (and `runtime`) names.
    init(manifest: PodCRI.Manifest, path: String) throws {
      switch (manifest.version, manifest.runtime) {
      case (1, "cri-o"?): self = .crio
      case (2, _): self = .containerd
      default: throw PodCheckpointError.unknownLayout(path: path, version: manifest.version, runtime: manifest.runtime)
      }
    }

    /// The archive name the layout derives from a container ID: the lowercase hex SHA-256 of the ID's text.
    func archiveName(id: String) -> String {
      var hasher = SHA256Hasher()
      hasher.update(Array(id.utf8))
      switch self {
      case .crio: return "containers/\(hasher.finalize()).tar"
      case .containerd: return "container-\(hasher.finalize()).tar"
      case .legacy: return ""
      }
    }

    /// Reads a KEP-5823 pod checkpoint whose manifest has this layout.
    func read(manifest: PodCRI.Manifest, files: PodFiles) throws -> PodCheckpoint {
      let path = files.directory
      func invalid(_ reason: String) -> PodCheckpointError {
        .invalid(path: path, member: Self.manifestName, reason: reason)
      }
      if self == .crio, files.size(of: Self.manifestName) > Self.jsonLimit {
        throw ArchiveError.memberTooLarge(archive: path, member: Self.manifestName, limit: Self.jsonLimit)
      }
      guard let entries = manifest.containers, !entries.isEmpty else { throw invalid("lists no container") }
      guard entries.count <= PodCheckpoint.containerLimit else {
        throw invalid("lists \(entries.count) containers (at most \(PodCheckpoint.containerLimit))")
      }
      guard let sandboxID = manifest.sandboxId, !sandboxID.isEmpty else { throw invalid("has no sandboxId") }
      var names: Set<String> = []
      var ids: Set<String> = []
      let containers = try entries.enumerated().map { index, entry -> Container in
        guard let name = entry.name, !name.isEmpty, let id = entry.id, !id.isEmpty, let archive = entry.archive else {
          throw invalid("container \(index + 1) lacks its name, id or archive")
        }
        guard Self.isValidName(name) else {
          throw invalid("container name \(JSONValue.quote(name)) is not a valid name")
        }
        guard names.insert(name).inserted else { throw invalid("lists container \(JSONValue.quote(name)) twice") }
        guard ids.insert(id).inserted else { throw invalid("lists container id \(JSONValue.quote(id)) twice") }
        // The name is derived, never chosen: this also keeps `..` and `/` out.
        guard archive == archiveName(id: id) else {
          throw invalid(
            "container \(JSONValue.quote(name)): archive \(JSONValue.quote(archive)) is not the name its id gives "
              + JSONValue.quote(archiveName(id: id)))
        }
        if self == .crio {
          guard let sum = entry.sha256, sum.count == 64, sum.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw invalid("container \(JSONValue.quote(name)) has no valid sha256")
          }
        }
        return Container(
          name: name, id: id, location: archive, sha256: entry.sha256, config: entry.config, status: entry.status)
      }
      guard let sandboxBytes = try files.read(Self.sandboxConfigName, limit: Self.jsonLimit) else {
        throw CheckpointError.missingMember(source: path, member: Self.sandboxConfigName)
      }
      let sandbox = try decodeMember(
        PodCRI.SandboxConfig.self, sandboxBytes, source: path, member: Self.sandboxConfigName)
      let size = [Self.manifestName, Self.sandboxConfigName].reduce(0) { $0 + files.size(of: $1) }
      return PodCheckpoint(
        path: path, layout: self, name: sandbox.metadata?.name ?? "", namespace: sandbox.metadata?.namespace ?? "",
        uid: sandbox.metadata?.uid ?? "", sandboxID: sandboxID, runtime: self == .crio ? "cri-o" : "containerd",
        runtimeHandler: manifest.runtimeHandler, checkpointed: files.modificationTime(Self.manifestName),
        sandbox: sandbox, annotations: [:], containers: containers,
        size: containers.reduce(size) { $0 + files.size(of: $1.location) }, archive: files.archive)
    }

    /// Reads a legacy pod checkpoint from its `pod.options`.
    static func readLegacy(options: PodCRI.PodOptions, files: PodFiles) throws -> PodCheckpoint {
      let path = files.directory
      func invalid(_ reason: String) -> PodCheckpointError {
        .invalid(path: path, member: legacyOptionsName, reason: reason)
      }
      guard options.version == 1 else {
        throw invalid("unknown version \(options.version.map(String.init) ?? "(none)")")
      }
      let map = options.containers ?? [:]
      guard !map.isEmpty else { throw invalid("lists no container") }
      guard map.count <= PodCheckpoint.containerLimit else {
        throw invalid("lists \(map.count) containers (at most \(PodCheckpoint.containerLimit))")
      }
      var directories: Set<String> = []
      let containers = try map.sorted(by: { $0.key < $1.key }).map { name, directory -> Container in
        guard isValidName(name) else { throw invalid("container name \(JSONValue.quote(name)) is not a valid name") }
        // `<64 hex id>-<name>`: one directory at the pod checkpoint's root.
        let id = String(directory.prefix(64))
        guard directory == id + "-" + name, id.count == 64, id.allSatisfy(\.isHexDigit) else {
          throw invalid(
            "container \(JSONValue.quote(name)): directory \(JSONValue.quote(directory)) is not <id>-\(name)")
        }
        guard directories.insert(directory).inserted else {
          throw invalid("lists directory \(JSONValue.quote(directory)) twice")
        }
        return Container(name: name, id: id, location: directory, sha256: nil, config: nil, status: nil)
      }
      let annotations = options.annotations ?? [:]
      let sandbox = try files.read(legacySandboxName, limit: jsonLimit).map {
        try decodeMember(PodCRI.SandboxConfig.self, $0, source: path, member: legacySandboxName)
      }
      func annotation(_ key: String) -> String? { annotations["org.criu.checkpoint." + key] }
      let size = [legacyOptionsName, legacySandboxName].reduce(0) { $0 + files.size(of: $1) }
      return PodCheckpoint(
        path: path, layout: .legacy, name: annotation("pod.name") ?? sandbox?.metadata?.name ?? "",
        namespace: annotation("pod.namespace") ?? sandbox?.metadata?.namespace ?? "",
        uid: annotation("pod.uid") ?? sandbox?.metadata?.uid ?? "", sandboxID: annotation("pod.id") ?? "",
        runtime: annotation("engine.name") ?? "", runtimeHandler: nil,
        checkpointed: files.modificationTime(legacyOptionsName), sandbox: sandbox ?? PodCRI.SandboxConfig(),
        annotations: annotations, containers: containers,
        size: containers.reduce(size) { $0 + files.size(of: $1.location) }, archive: files.archive)
    }
  }
}
