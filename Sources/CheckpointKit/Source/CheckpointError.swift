import Archive
import CRIU
import Glibc
import SystemSupport

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
  /// A metadata file that is a link, FIFO, directory, socket or device (upstream v1.6 refuses them).
  case notRegularFile(source: String, member: String)
  /// A member the command needs is not there.
  case missingMember(source: String, member: String)
  /// A member that is missing and that `what` (a flag or a view) needs.
  case needsImage(what: String, source: String, member: String)
  /// Reading what a view shows failed (`context` is upstream's phrase, e.g. `failed to get process tree`);
  /// `missing` names the member whose absence caused it, if that is the cause.
  case view(context: String, reason: String, missing: String? = nil)
  /// A member of a compressed archive that the command did not ask for while streaming it.
  case notLoaded(source: String, member: String)
  /// A CRIU image is malformed.
  case corruptImage(source: String, member: String, CRIUImageError)
  /// A view failed on a container checkpoint whose image directory is empty (metadata only).
  indirect case noImages(CheckpointError)
  /// A member of a compressed archive had to be kept for reads at any offset (`reason` says why) and the private
  /// temporary file in `directory` could not take its `size` bytes (`error` says why).
  case cannotBuffer(source: String, member: String, size: Int64, reason: String, directory: String, error: SystemError)
  /// A process's memory was streamed before a later member of the archive changed its layout.
  case outOfOrder(source: String, member: String)
  /// A containerd checkpoint image without CRIU images (containerd 1.6 writes one on a second checkpoint of an
  /// unchanged container: no `criu.tar`, no `config` blob).
  case noCRIUData(String)
  /// A blob of a containerd checkpoint image that is not what its media type says.
  case invalidBlob(source: String, mediaType: String, reason: String)

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
    case .notRegularFile(let source, let member): return "\(source)/\(member) is not a regular file"
    case .missingMember(let source, let member): return "\(source): \(member): no such file or directory"
    case .needsImage(let what, let source, let member):
      return "\(what) needs \(member): \(source): \(member): no such file or directory"
    case .view(let context, let reason, _): return "\(context): \(reason)"
    case .notLoaded(let source, let member): return "\(member) of \(source) was not read"
    case .corruptImage(let source, let member, let error): return "\(source):\(member): \(error)"
    case .noImages(let error): return "\(error): the checkpoint holds no CRIU images (checkpoint/ is empty)"
    case .cannotBuffer(let source, let member, let size, let reason, let directory, let error):
      let problem =
        error.code == ENOSPC || error.code == EDQUOT
        ? "not enough space in \(directory)" : "cannot write in \(directory): \(error.reason)"
      return "\(source): \(Path.base(of: member)) (\(ByteCount.format(size))) must be buffered \(reason); \(problem) "
        + "(set TMPDIR)"
    case .outOfOrder(let source, let member):
      return "\(source): the images after \(Path.base(of: member)) change the memory already written from it "
        + "(the archive is not in name order); write to a file with -o, or unpack the archive first"
    case .noCRIUData(let path):
      return "\(path): the containerd checkpoint image holds no CRIU data (no criu.tar and no config blob: "
        + "containerd 1.6 leaves them out when an unchanged container is checkpointed again)"
    case .invalidBlob(let source, let mediaType, let reason): return "\(source): \(mediaType) blob: \(reason)"
    }
  }
}

extension CheckpointError {
  /// The member whose absence caused `error`, if that is what caused it.
  public static func missingMember(causing error: Error) -> String? {
    switch error as? CheckpointError {
    case .missingMember(_, let member)?, .needsImage(_, _, let member)?: return member
    case .view(_, _, let member)?: return member
    case .noImages(let error)?: return missingMember(causing: error)
    default: return nil
    }
  }

  /// `error`, saying so when a member is missing because the checkpoint holds no CRIU image at all: a runtime
  /// that wrote its images elsewhere, or an archive of the metadata alone.
  public static func explained(_ error: Error, source: CheckpointSource) -> Error {
    guard source.holdsNoImages, missingMember(causing: error) != nil, let error = error as? CheckpointError else {
      return error
    }
    return CheckpointError.noImages(error)
  }

  /// Runs `body`; a failure becomes ``view(context:reason:)``, so the message starts with upstream's phrase for
  /// the view (`failed to get file descriptors: x.tar: checkpoint/files.img: no such file or directory`).
  package static func inView<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw CheckpointError.view(context: context, reason: "\(error)", missing: missingMember(causing: error))
    }
  }
}
