import Archive
import CRIU
import SystemSupport

/// Errors raised while reading or changing a kubelet checkpoint store.
public enum KubeletStoreError: Error, Equatable, CustomStringConvertible {
  /// The target directory or archive does not exist.
  case targetMissing(String)
  /// The target exists but is neither a directory nor (where allowed) an archive.
  case targetNotDirectory(String)
  /// `checkpointed.pods` is not valid.
  case invalidMetadata(source: String, reason: String)
  /// The store directory has no `checkpointed.pods`.
  case metadataMissing(String)
  /// An archive holds no `checkpointed.pods` at its root.
  case notKubeletArchive(String)
  /// A pod's SandboxID cannot name a file in the store.
  case unsafeSandboxID(source: String, sandboxID: String)
  /// `extract`: a pod's `<SandboxID>.tar` is missing or not a regular file.
  case sandboxArchiveMissing(path: String, reason: String)
  /// `insert`: the archive lists a pod whose `<SandboxID>.tar` it does not contain.
  case sandboxArchiveNotInArchive(archive: String, member: String)
  /// `insert`: the archive holds a member twice.
  case duplicateMember(archive: String, member: String)
  /// `insert`: something in the target would be overwritten or contradicted.
  case conflict(target: String, what: String, reason: String)
  /// An image reference a store cannot move through; `what` says why (a bare name, this transport).
  case unsupportedImage(reference: String, what: String)
  /// `insert`: an image whose layer is not a kubelet checkpoint store.
  case notKubeletImage(String)
  /// `extract --pod` on a target that is not a pod checkpoint store.
  case notPodStore(String)
  /// `extract --pod NAME`: no pod checkpoint of that pod (or entry name) in the store.
  case noSuchPodCheckpoint(target: String, name: String)
  /// `extract`: nothing complete to pack in a pod checkpoint store.
  case noPodCheckpoint(String)
  /// A pod checkpoint that cannot be moved, and why.
  case invalidPodCheckpoint(path: String, reason: String)
  /// `insert`: an archive with both `checkpointed.pods` and pod checkpoint directories.
  case mixedArchive(String)

  /// A bare image name (Podman's local store), which cannot hold a store.
  static func bareImageName(_ name: String) -> KubeletStoreError {
    .unsupportedImage(reference: name, what: "a bare image name (Podman's local store)")
  }

  /// The message on one line: names from archives and images may hold control characters.
  public var description: String { singleLine(message) }

  private var message: String {
    switch self {
    case .targetMissing(let path):
      return "target \(path) does not exist"
    case .targetNotDirectory(let path):
      return "target \(path) is not a directory"
    case .invalidMetadata(let source, let reason):
      return "\(source) is not valid checkpoint metadata: \(reason)"
    case .metadataMissing(let path):
      return "\(path) does not exist: the target is not a kubelet checkpoint directory"
    case .notKubeletArchive(let archive):
      return "\(archive) is not a kubelet checkpoint archive: it has no \(CheckpointMetadata.fileName)"
    case .unsafeSandboxID(let source, let sandboxID):
      return "\(source) lists a pod with SandboxID \(quoted(sandboxID)), which cannot name a file in the store"
    case .sandboxArchiveMissing(let path, let reason):
      return "pod archive \(path) \(reason)"
    case .sandboxArchiveNotInArchive(let archive, let member):
      return "\(archive) lists pod archive \(member) but does not contain it"
    case .duplicateMember(let archive, let member):
      return "\(archive) contains \(member) more than once"
    case .conflict(let target, let what, let reason):
      return "\(what) conflicts with \(target): \(reason); nothing was changed"
    case .unsupportedImage(let reference, let what):
      return
        "\(quoted(reference)): \(what) cannot hold a kubelet checkpoint store; use "
        + "docker://HOST[:PORT]/REPO[:TAG], oci-archive:PATH[:TAG] or oci:DIR[:TAG]"
    case .notPodStore(let target):
      return "\(target) is not a pod checkpoint store: --pod selects pod checkpoints of one"
    case .noSuchPodCheckpoint(let target, let name):
      return "\(target) has no pod checkpoint of pod \(quoted(name))"
    case .noPodCheckpoint(let target):
      return "\(target) holds no complete pod checkpoint"
    case .invalidPodCheckpoint(let path, let reason):
      return "pod checkpoint \(path) \(reason)"
    case .mixedArchive(let archive):
      return "\(archive) holds both \(CheckpointMetadata.fileName) and pod checkpoints"
    case .notKubeletImage(let image):
      return
        "\(image) is not an image of a kubelet checkpoint store: its layer has no \(CheckpointMetadata.fileName)"
    }
  }
}
