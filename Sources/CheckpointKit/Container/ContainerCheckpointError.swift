import Archive
import CRIU
import SystemSupport

/// Errors raised while reading a container checkpoint's metadata (`config.dump`, `spec.dump`).
public enum ContainerCheckpointError: Error, Equatable, CustomStringConvertible {
  /// A source whose metadata is fine but that has no `checkpoint/` directory, not even an empty one.
  case notAContainerCheckpoint(String)
  /// A bare CRIU image directory (no container metadata) where a container checkpoint is needed.
  case imageDirectory(String)
  /// A metadata member that is there but empty.
  case emptyMember(source: String, member: String)
  /// A metadata member that is not the JSON it should be.
  case invalidMember(source: String, member: String, reason: String)
  /// CRI-O's `io.kubernetes.cri-o.Metadata` annotation is missing or not a JSON object.
  case invalidCRIOMetadata(source: String, reason: String)

  /// The message on one line: names from archives and images may hold control characters.
  public var description: String { singleLine(message) }

  private var message: String {
    switch self {
    // Upstream's phrases, which scripts match, with the checkpoint and member named.
    case .notAContainerCheckpoint(let path):
      return "checkpoint directory is missing in the archive file: \(path)"
    case .imageDirectory(let path):
      return
        "\(path): \(ContainerConfig.fileName): no such file or directory (a CRIU image directory, not a container checkpoint)"
    case .emptyMember(let source, let member):
      return "failed to unmarshal \(source):\(member): unexpected end of JSON input"
    case .invalidMember(let source, let member, let reason):
      return "failed to unmarshal \(source):\(member): \(reason)"
    case .invalidCRIOMetadata(let source, let reason):
      return "\(source): failed to read \(SpecDump.crioMetadata): \(reason)"
    }
  }
}
