import Archive
import Glibc
import OCI
import SystemSupport

/// A pod checkpoint: every container of a pod checkpointed as one group into a directory (KEP-5823: CRI-O's
/// layout, containerd's, or the earlier `pod.options` proposal, ``Layout``). What it says about the pod and its
/// containers, read from its JSON files; each container's own checkpoint is opened as any other
/// (``source(of:selection:registry:)``).
public struct PodCheckpoint: Sendable {
  /// The pod checkpoint as the user named it.
  public var path: String
  /// Which runtime's layout it has.
  public var layout: Layout
  /// The pod's name, namespace and UID.
  public var name: String, namespace: String, uid: String
  /// The sandbox's ID.
  public var sandboxID: String
  /// The runtime that wrote it (`cri-o`, `containerd`) and, when recorded, its handler (`runc`).
  public var runtime: String, runtimeHandler: String?
  /// When the checkpoint was complete: the manifest's modification time (it is written last), or the legacy
  /// layout's `pod.options`.
  public var checkpointed: Timestamp?
  /// `pod-config.json` (legacy: `pod.dump`) as the sandbox was created.
  public var sandbox: PodCRI.SandboxConfig
  /// The legacy layout's `pod.options` annotations (`org.criu.checkpoint.*`), empty for the others.
  public var annotations: [String: String]
  /// The containers, in the manifest's order (legacy: by name).
  public var containers: [Container]
  /// Bytes of the pod checkpoint's files.
  public var size: Int64
  /// What a tar of the pod checkpoint holds, `nil` for a directory.
  var archive: PodArchive.Contents?

  /// A container of the pod.
  public struct Container: Sendable, Equatable {
    /// The container's name in the pod (CRI metadata name).
    public var name: String
    /// The full container ID.
    public var id: String
    /// Where its checkpoint is, relative to the pod checkpoint: an archive, or a directory (legacy).
    public var location: String
    /// The SHA-256 the manifest records for its archive (CRI-O), lowercase hex.
    public var sha256: String?
    /// Its CRI configuration.
    public var config: PodCRI.ContainerConfig?
    /// Its CRI status when checkpointed (containerd).
    public var status: PodCRI.ContainerStatus?
  }

  /// At most this many containers (containerd's restore limit).
  public static let containerLimit = 1024
  /// The names at the root of a pod checkpoint that tell it from a container checkpoint.
  static let markers = [Layout.manifestName, Layout.sandboxConfigName, Layout.legacyOptionsName]

  /// True when `path` is a directory with a pod checkpoint's files at its root (of any type: a link in their
  /// place is refused when read, not taken for a container checkpoint).
  public static func isPod(_ path: String) -> Bool {
    guard let info = try? Path.status(path) else { return false }
    guard Path.isDirectory(info) else { return Path.isRegularFile(info) && PodArchive.startsLikePod(path) }
    return markers.contains { (try? Path.linkStatus(Path.join(path, $0))) ?? nil != nil }
  }

  /// The container named `name`.
  public func container(named name: String) throws -> Container {
    guard let container = containers.first(where: { $0.name == name }) else {
      throw PodCheckpointError.noSuchContainer(path: path, name: name, names: containers.map(\.name))
    }
    return container
  }

  /// The path of `container`'s checkpoint.
  public func path(of container: Container) -> String { Path.join(path, container.location) }

  /// The one container checkpoint `path` names: a container checkpoint, or the container `name` of a pod
  /// checkpoint (needed unless the pod has only one).
  public static func containerPath(_ path: String, container name: String?) throws -> String {
    guard isPod(path) else {
      if name != nil { throw PodCheckpointError.notAPod(path) }
      return path
    }
    let pod = try PodCheckpoint(path: path)
    guard name != nil || pod.containers.count == 1 else {
      throw PodCheckpointError.needsContainer(path: path, names: pod.containers.map(\.name))
    }
    return try pod.checkedPath(of: pod.containers(selecting: name)[0])
  }

  /// The containers `name` selects: every one when `nil`.
  public func containers(selecting name: String?) throws -> [Container] {
    guard let name else { return containers }
    return [try container(named: name)]
  }

  /// The path of `container`'s checkpoint (a container checkpoint archive, a containerd checkpoint image or a
  /// container checkpoint directory), once checked to be a regular file or a directory, not a link.
  public func checkedPath(of container: Container) throws -> String {
    let location = path(of: container)
    let files = PodFiles(directory: path, archive: archive)
    guard try files.holds(container.location, directory: layout == .legacy) else {
      guard try archive != nil || Path.linkStatus(location) != nil else { throw CheckpointError.missing(location) }
      throw CheckpointError.notRegularFile(source: path, member: container.location)
    }
    return location
  }

  /// The lowercase hex SHA-256 of `container`'s archive, as CRI-O's manifest records it.
  public func archiveSHA256(of container: Container) throws -> String {
    let location = try checkedPath(of: container)
    if archive != nil { return try PodArchive.sha256(of: container.location, in: path) }
    let file = try FileDescriptor(path: location, flags: O_RDONLY | O_NOFOLLOW)
    var hasher = SHA256Hasher()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while case let count = try file.read(into: buffer), count > 0 {
      hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
    return hasher.finalize()
  }

  /// Opens `container`'s checkpoint (``checkedPath(of:)``).
  public func source(
    of container: Container, selection: CheckpointSource.Selection = .everything,
    registry: RegistryOptions = RegistryOptions()
  ) throws -> CheckpointSource {
    try CheckpointSource(path: checkedPath(of: container), selection: selection, registry: registry)
  }
}

extension PodCheckpoint {
  /// Reads the pod checkpoint directory `path`: its manifest (or the legacy `pod.options`) and sandbox
  /// configuration, every name checked before use.
  public init(path: String) throws {
    var files = PodFiles(directory: path)
    if let info = try Path.status(path), !Path.isDirectory(info) { files.archive = try PodArchive.read(path) }
    if let manifestBytes = try files.read(Layout.manifestName, limit: Layout.manifestLimit) {
      let manifest = try decodeMember(PodCRI.Manifest.self, manifestBytes, source: path, member: Layout.manifestName)
      let layout = try Layout(manifest: manifest, path: path)
      self = try layout.read(manifest: manifest, files: files)
    } else if try files.read(Layout.sandboxConfigName, limit: Layout.jsonLimit) != nil {
      throw PodCheckpointError.incomplete(path)
    } else if let options = try files.read(Layout.legacyOptionsName, limit: Layout.jsonLimit) {
      self = try Layout.readLegacy(
        options: decodeMember(PodCRI.PodOptions.self, options, source: path, member: Layout.legacyOptionsName),
        files: files)
    } else {
      throw CheckpointError.notACheckpoint(path)
    }
  }
}

/// The pod checkpoint's own files, read as metadata: regular files only (a link is refused, a FIFO never blocks),
/// limited in size; from a directory, or from a tar of one as ``PodArchive`` read it.
struct PodFiles {
  /// The pod checkpoint as the user named it.
  let directory: String
  /// A pod archive's members, `nil` for a directory.
  var archive: PodArchive.Contents?

  /// The file `name`'s bytes, `nil` when there is none.
  func read(_ name: String, limit: Int64) throws -> [UInt8]? {
    if let archive {
      guard let member = archive.members[name] else { return nil }
      guard member.isRegular, let bytes = archive.files[name] else {
        throw CheckpointError.notRegularFile(source: directory, member: name)
      }
      guard bytes.count <= limit else {
        throw ArchiveError.memberTooLarge(archive: directory, member: name, limit: limit)
      }
      return bytes
    }
    let path = Path.join(directory, name)
    guard let entry = try Path.linkStatus(path) else { return nil }
    guard Path.isRegularFile(entry) else { throw CheckpointError.notRegularFile(source: directory, member: name) }
    let file = try FileDescriptor(path: path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK, displayPath: path)
    let info = try file.status()
    guard Path.isRegularFile(info) else { throw CheckpointError.notRegularFile(source: directory, member: name) }
    guard info.st_size <= limit else {
      throw ArchiveError.memberTooLarge(archive: directory, member: name, limit: limit)
    }
    return try file.readAll(limit: Int(limit))
  }

  /// The modification time of `name`.
  func modificationTime(_ name: String) -> Timestamp? {
    if let archive { return archive.members[name].flatMap { Timestamp(unixSeconds: $0.modificationTime) } }
    guard let info = try? Path.linkStatus(Path.join(directory, name)) else { return nil }
    return Timestamp(unixSeconds: Int64(info.st_mtim.tv_sec))
  }

  /// Bytes of the regular files at `relative` (a file, or a directory walked four levels deep).
  func size(of relative: String, depth: Int = 0) -> Int64 {
    if let archive {
      return archive.members.reduce(0) { sum, member in
        member.key == relative || member.key.hasPrefix(relative + "/") ? sum + member.value.size : sum
      }
    }
    let path = Path.join(directory, relative)
    guard let info = try? Path.linkStatus(path) else { return 0 }
    if Path.isRegularFile(info) { return Int64(info.st_size) }
    guard Path.isDirectory(info), depth < 4, let names = try? Path.entries(of: path) else { return 0 }
    return names.reduce(0) { $0 + size(of: relative + "/" + $1, depth: depth + 1) }
  }

  /// True when `relative` is a regular file (or, with `directory`, a directory), not a link.
  func holds(_ relative: String, directory allowed: Bool) throws -> Bool {
    if let archive {
      if allowed && archive.directories.contains(relative) { return true }
      return archive.members[relative]?.isRegular == true
    }
    guard let info = try Path.linkStatus(Path.join(directory, relative)) else { return false }
    return Path.isRegularFile(info) || (allowed && Path.isDirectory(info))
  }
}

/// Why a pod checkpoint cannot be read.
public enum PodCheckpointError: Error, Equatable, CustomStringConvertible {
  /// `pod-config.json` without `checkpoint-manifest.json`: the runtime never finished (the manifest is last).
  case incomplete(String)
  /// A manifest version (and runtime) no layout has.
  case unknownLayout(path: String, version: Int?, runtime: String?)
  /// A manifest or option file that breaks the layout's rules.
  case invalid(path: String, member: String, reason: String)
  /// `--container NAME` names no container of the pod.
  case noSuchContainer(path: String, name: String, names: [String])
  /// `--container NAME` given with a container checkpoint.
  case notAPod(String)
  /// `diff` of a pod checkpoint and a container checkpoint.
  case mixedDiff(pod: String, container: String)
  /// A pod checkpoint of several containers where one is needed.
  case needsContainer(path: String, names: [String])

  public var description: String {
    switch self {
    case .incomplete(let path):
      return "\(path) is an incomplete pod checkpoint (no \(PodCheckpoint.Layout.manifestName))"
    case .unknownLayout(let path, let version, let runtime):
      let what = version.map { "version \($0)" } ?? "no version"
      return "\(Path.join(path, PodCheckpoint.Layout.manifestName)): unknown pod checkpoint layout (\(what)"
        + (runtime.map { ", runtime \(JSONValue.quote($0))" } ?? "") + ")"
    case .invalid(let path, let member, let reason):
      return "\(Path.join(path, member)): \(reason)"
    case .notAPod(let path):
      return "\(path) is a container checkpoint; --container selects a container of a pod checkpoint"
    case .mixedDiff(let pod, let container):
      return "\(pod) is a pod checkpoint and \(container) is not: diff compares two pod checkpoints or two "
        + "container checkpoints (select one of the pod's with \(pod)/<its archive>)"
    case .needsContainer(let path, let names):
      return "\(path) is a pod checkpoint of \(names.count) containers: choose one with --container ("
        + names.map { JSONValue.quote($0) }.joined(separator: ", ") + ")"
    case .noSuchContainer(let path, let name, let names):
      return "\(path): no container named \(JSONValue.quote(name)) (the pod has "
        + names.map { JSONValue.quote($0) }.joined(separator: ", ") + ")"
    }
  }
}

extension PodCheckpoint {
  /// Each container's metadata as `show` gives it, named as the pod names it; a container whose checkpoint cannot
  /// be read is a failure, and the others are still read.
  public func containerCheckpoints(registry: RegistryOptions = RegistryOptions()) -> (
    checkpoints: [ContainerCheckpoint], failures: [CheckpointReadFailure]
  ) {
    var checkpoints: [ContainerCheckpoint] = []
    var failures: [CheckpointReadFailure] = []
    for container in containers {
      do {
        var checkpoint = try ContainerCheckpoint(
          source: source(of: container, selection: ContainerCheckpoint.selection, registry: registry))
        // The pod's manifest names the container as the runtime knows it (a containerd image knows only its
        // cgroup's name and no creation time).
        checkpoint.name = container.name
        checkpoint.config.id = container.id
        if checkpoint.created.isEmpty, let nanoseconds = container.status?.createdAt,
          let created = Timestamp(unixSeconds: nanoseconds / 1_000_000_000)
        {
          checkpoint.created = created.rfc3339
        }
        checkpoint.podName = name
        checkpoint.namespace = namespace
        checkpoints.append(checkpoint)
      } catch {
        let text = "\(error)"
        let location = path(of: container)
        failures.append(
          CheckpointReadFailure(path: location, message: text.contains(location) ? text : "\(location): \(text)"))
      }
    }
    return (checkpoints, failures)
  }
}
