/// Errors raised while reading a checkpoint.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  /// The path does not exist.
  case missing(String)
  /// A directory that holds neither CRIU images nor a `checkpoint/` directory.
  case notACheckpoint(String)
  /// An archive with no members.
  case emptyArchive(String)
  /// A pipe that does not hold a CRIU image (an archive is listed only from a file).
  case notAnImage(String)
  /// A member the command needs is not there.
  case missingMember(source: String, member: String)
  /// A member of a compressed archive that the command did not ask for while streaming it.
  case notLoaded(source: String, member: String)
  /// A CRIU image is malformed.
  case corruptImage(source: String, member: String, CRIUImageError)

  public var description: String {
    switch self {
    case .missing(let path): return "\(path) does not exist"
    case .notACheckpoint(let path):
      return "\(path) is not a checkpoint: it has no CRIU images and no checkpoint directory"
    case .emptyArchive(let path): return "\(path) is an empty archive"
    case .notAnImage(let path):
      return "\(path) is not a CRIU image (checkpoints are listed only from a file or a directory)"
    case .missingMember(let source, let member): return "\(member) is missing in \(source)"
    case .notLoaded(let source, let member): return "\(member) of \(source) was not read"
    case .corruptImage(let source, let member, let error): return "\(source):\(member): \(error)"
    }
  }
}
