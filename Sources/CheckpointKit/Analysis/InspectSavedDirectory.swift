import SystemSupport

/// A directory of the container that Podman saves with the checkpoint as an uncompressed tar: `/dev/shm`
/// (`devshm-checkpoint.tar`) or a named volume (`volumes/<name>.tar`), as `inspect --devshm` and `--volumes` show
/// them.
public struct SavedDirectory: Equatable, Sendable {
  /// Podman's copy of the container's `/dev/shm`, at the archive root.
  public static let devShmName = CheckpointMember.devShm.name
  /// Where Podman saves each named volume, as `<name>.tar`.
  public static let volumeDirectory = "volumes/"

  /// The volume's name; empty for `/dev/shm`.
  public var name: String
  /// Where the container mounted it: `/dev/shm`, or the volume's `dest` in `config.dump`'s `namedVolumes`; empty
  /// when `config.dump` does not say.
  public var destination: String
  /// The tar's size in bytes.
  public var size: Int64
  /// The tar's members, their paths relative to the directory, sorted (the directory itself left out).
  public var files: [ArchivedFile]

  /// A saved directory with these fields.
  public init(name: String, destination: String, size: Int64, files: [ArchivedFile]) {
    self.name = name
    self.destination = destination
    self.size = size
    self.files = files
  }

  /// The source's `devshm-checkpoint.tar`, `nil` when it has none (the container shared the host's IPC
  /// namespace, or another engine made the checkpoint).
  public static func devShm(of source: CheckpointSource) throws -> SavedDirectory? {
    guard source.contains(devShmName) else { return nil }
    return SavedDirectory(
      name: "", destination: "/dev/shm", size: try source.size(of: devShmName),
      files: try ArchivedFile.list(devShmName, of: source))
  }

  /// The source's volume tars, sorted by name.
  public static func volumes(of source: CheckpointSource) throws -> [SavedDirectory] {
    let destinations = volumeDestinations(source)
    return try source.memberNames.compactMap { member in
      guard let name = volumeName(member) else { return nil }
      return SavedDirectory(
        name: name, destination: destinations[name] ?? "", size: try source.size(of: member),
        files: try ArchivedFile.list(member, of: source))
    }.sorted { $0.name < $1.name }
  }

  /// The volume whose tar `member` is (`volumes/<name>.tar`), `nil` for another member.
  static func volumeName(_ member: String) -> String? {
    guard member.hasPrefix(volumeDirectory), member.hasSuffix(".tar") else { return nil }
    let name = member.dropFirst(volumeDirectory.count).dropLast(4)
    return name.isEmpty || name.contains("/") ? nil : String(name)
  }

  /// Each named volume's mount point, from `config.dump`'s `namedVolumes: [{volumeName, dest}]` (Podman's); none
  /// when it has no such list.
  static func volumeDestinations(_ source: CheckpointSource) -> [String: String] {
    guard source.contains(ContainerConfig.fileName),
      let config = try? JSONValue(parsing: source.bytes(of: ContainerConfig.fileName)),
      let volumes = config.objectValue?["namedVolumes"]?.arrayValue
    else { return [:] }
    var destinations: [String: String] = [:]
    for volume in volumes {
      guard let fields = volume.objectValue, let name = fields["volumeName"]?.stringValue,
        let destination = fields["dest"]?.stringValue
      else { continue }
      destinations[name] = destination
    }
    return destinations
  }
}
