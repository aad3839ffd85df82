/// Errors raised while reading a container checkpoint's metadata (`config.dump`, `spec.dump`).
public enum ContainerCheckpointError: Error, Equatable, CustomStringConvertible {
  /// A source with no `checkpoint/` directory (a bare CRIU image directory, or an unrelated archive).
  case notAContainerCheckpoint(String)
  /// A metadata member that is there but empty.
  case emptyMember(source: String, member: String)
  /// A metadata member that is not the JSON it should be.
  case invalidMember(source: String, member: String, reason: String)
  /// CRI-O's `io.kubernetes.cri-o.Metadata` annotation is missing or not a JSON object.
  case invalidCRIOMetadata(source: String, reason: String)

  public var description: String {
    switch self {
    case .notAContainerCheckpoint(let path):
      return "\(path) is not a container checkpoint: it has no checkpoint directory"
    case .emptyMember(let source, let member): return "\(member) is empty in \(source)"
    case .invalidMember(let source, let member, let reason): return "\(source):\(member) is invalid: \(reason)"
    case .invalidCRIOMetadata(let source, let reason):
      return "\(source): failed to read \(SpecDump.crioMetadata): \(reason)"
    }
  }
}
