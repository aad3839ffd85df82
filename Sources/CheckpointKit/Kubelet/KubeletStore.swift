import Archive
import CRIU
import Glibc
import SystemSupport

/// A kubelet checkpoint store: a directory with `checkpointed.pods` and one `<SandboxID>.tar` per pod, or an
/// archive of one as written by ``extract(to:compression:progress:)``.
public struct KubeletStore: Sendable {
  /// Where the kubelet keeps pod checkpoints.
  public static let defaultTarget = "/var/lib/kubelet/checkpoints"

  /// The directory or archive, as the user gave it.
  public let target: String

  /// A store at `target` (a directory, or an archive for reading).
  public init(target: String = KubeletStore.defaultTarget) {
    self.target = target
  }

  /// The metadata path inside a store directory.
  public var metadataPath: String { Path.join(target, CheckpointMetadata.fileName) }

  /// Reads the pods and whether each pod's archive is present.
  ///
  /// A directory is read in place; an archive is read in one streaming pass (nothing is unpacked to disk).
  public func inventory() throws -> StoreInventory {
    guard let info = try Path.status(target) else { throw KubeletStoreError.targetMissing(target) }
    if Path.isDirectory(info) {
      let metadata = try readMetadata()
      let found = try metadata.pods.map { pod -> Bool in
        guard let name = pod.archiveName, let info = try Path.status(Path.join(target, name)) else { return false }
        return Path.isRegularFile(info)
      }
      return StoreInventory(source: metadataPath, metadata: metadata, archiveFound: found)
    }
    return try Self.inventory(ofArchive: target)
  }

  /// Reads an extracted store archive in one pass: the metadata and which pod archives it holds.
  static func inventory(ofArchive path: String) throws -> StoreInventory {
    let reader = try ArchiveReader(path: path)
    var metadata: CheckpointMetadata?
    var members = Set<String>()
    while let entry = try reader.next() {
      guard let name = entry.normalizedPath else { continue }
      if name == CheckpointMetadata.fileName {
        guard metadata == nil else { throw KubeletStoreError.duplicateMember(archive: path, member: name) }
        let bytes = try reader.readAll(limit: Int64(CheckpointMetadata.sizeLimit), member: name)
        metadata = try CheckpointMetadata(json: bytes, source: "\(path):\(name)")
      } else if entry.kind == .regular {
        members.insert(name)
      }
    }
    guard let metadata else { throw KubeletStoreError.notKubeletArchive(path) }
    let found = metadata.pods.map { pod in pod.archiveName.map(members.contains) ?? false }
    return StoreInventory(source: path, metadata: metadata, archiveFound: found)
  }

  /// Reads and checks `<target>/checkpointed.pods`.
  func readMetadata() throws -> CheckpointMetadata {
    let bytes: [UInt8]
    do {
      let file = try FileDescriptor(path: metadataPath, flags: O_RDONLY)
      bytes = try file.readAll(limit: CheckpointMetadata.sizeLimit)
    } catch let error as SystemError where error.code == ENOENT {
      throw KubeletStoreError.metadataMissing(metadataPath)
    }
    return try CheckpointMetadata(json: bytes, source: metadataPath)
  }

  /// Fails unless the target is an existing directory.
  func requireDirectory() throws {
    guard let info = try Path.status(target) else { throw KubeletStoreError.targetMissing(target) }
    guard Path.isDirectory(info) else { throw KubeletStoreError.targetNotDirectory(target) }
  }
}

/// What `show` displays: the pods of a store and whether each one's archive is there.
public struct StoreInventory: Equatable, Sendable {
  /// The file the metadata came from, as the user named it (`<dir>/checkpointed.pods` or the archive).
  public var source: String
  /// The metadata.
  public var metadata: CheckpointMetadata
  /// For each pod (same order), whether `<SandboxID>.tar` is a regular file in the store.
  public var archiveFound: [Bool]
}
