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
    }
  }
}
