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
  /// A member that is missing and that `what` (a flag or a view) needs.
  case needsImage(what: String, source: String, member: String)
  /// Reading what a view shows failed (`context` is upstream's phrase, e.g. `failed to get process tree`).
  case view(context: String, reason: String)
  /// A member of a compressed archive that the command did not ask for while streaming it.
  case notLoaded(source: String, member: String)
  /// A CRIU image is malformed.
  case corruptImage(source: String, member: String, CRIUImageError)

  /// The message on one line: names from archives and images may hold control characters.
  public var description: String { singleLine(message) }

  private var message: String {
    switch self {
    case .missing(let path): return "stat \(path): no such file or directory"
    case .notACheckpoint(let path):
      return "\(path) is not a checkpoint: it has no CRIU images and no checkpoint directory"
    case .emptyArchive(let path): return "checkpoint directory is missing in the archive file: \(path) (it is empty)"
    case .notAnImage(let path):
      return "\(path) is not a CRIU image (checkpoints are listed only from a file or a directory)"
    case .missingMember(let source, let member): return "\(source): \(member): no such file or directory"
    case .needsImage(let what, let source, let member):
      return "\(what) needs \(member): \(source): \(member): no such file or directory"
    case .view(let context, let reason): return "\(context): \(reason)"
    case .notLoaded(let source, let member): return "\(member) of \(source) was not read"
    case .corruptImage(let source, let member, let error): return "\(source):\(member): \(error)"
    }
  }
}

extension CheckpointError {
  /// Runs `body`; a failure becomes ``view(context:reason:)``, so the message starts with upstream's phrase for
  /// the view (`failed to get file descriptors: x.tar: checkpoint/files.img: no such file or directory`).
  static func inView<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw CheckpointError.view(context: context, reason: "\(error)")
    }
  }
}
