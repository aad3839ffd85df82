import Archive
import CRIU
import FoundationEssentials
import SystemSupport

/// `config.dump`: the container's configuration, as Podman, CRI-O and containerd write it. Only the fields
/// checkpointctl shows are modelled; the rest of Podman's full configuration is ignored.
public struct ContainerConfig: Codable, Equatable, Sendable {
  /// The member's name in a container checkpoint.
  public static let fileName = CheckpointMember.config.name

  /// Full container ID.
  public var id: String?
  /// Container name (Podman's; CRI-O writes `k8s_…`, containerd the container ID or name).
  public var name: String?
  /// The image as the user asked for it.
  public var rootfsImage: String?
  /// The image ID.
  public var rootfsImageRef: String?
  /// The image name (shown as "Image").
  public var rootfsImageName: String?
  /// The OCI runtime (`runc`, `crun`, `io.containerd.runc.v2`).
  public var runtime: String?
  /// When the container was created, RFC 3339, verbatim.
  public var createdTime: String?
  /// When the checkpoint was made, RFC 3339, verbatim (Podman does not write it).
  public var checkpointedTime: String?
  /// When the container was restored, RFC 3339, verbatim.
  public var restoredTime: String?
  /// Whether the container had been restored.
  public var restored: Bool?

  /// A configuration from its fields.
  public init(
    id: String? = nil, name: String? = nil, rootfsImage: String? = nil, rootfsImageRef: String? = nil,
    rootfsImageName: String? = nil, runtime: String? = nil, createdTime: String? = nil,
    checkpointedTime: String? = nil, restoredTime: String? = nil, restored: Bool? = nil
  ) {
    self.id = id
    self.name = name
    self.rootfsImage = rootfsImage
    self.rootfsImageRef = rootfsImageRef
    self.rootfsImageName = rootfsImageName
    self.runtime = runtime
    self.createdTime = createdTime
    self.checkpointedTime = checkpointedTime
    self.restoredTime = restoredTime
    self.restored = restored
  }

  /// Decodes `config.dump`; `source` names the checkpoint in errors.
  public init(json bytes: [UInt8], source: String) throws {
    self = try decodeMember(Self.self, bytes, source: source, member: Self.fileName)
  }

  /// ``createdTime`` parsed; `nil` when absent, invalid or Go's zero time.
  public var created: Timestamp? { setTime(createdTime) }
  /// ``checkpointedTime`` parsed; `nil` when absent, invalid or Go's zero time.
  public var checkpointed: Timestamp? { setTime(checkpointedTime) }
  /// ``restoredTime`` parsed; `nil` when absent, invalid or Go's zero time.
  public var restoredAt: Timestamp? { setTime(restoredTime) }
}

/// A time field that was really set: Go writes `0001-01-01T00:00:00Z` for one that was not.
private func setTime(_ text: String?) -> Timestamp? {
  guard let time = text.flatMap(Timestamp.init), !time.isZero else { return nil }
  return time
}

/// Decodes a JSON metadata member, naming the checkpoint and member in every error.
func decodeMember<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], source: String, member: String) throws -> T {
  if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) {
    throw ContainerCheckpointError.emptyMember(source: source, member: member)
  }
  if let syntaxError = JSONSyntax.firstError(in: bytes) {
    throw ContainerCheckpointError.invalidMember(source: source, member: member, reason: syntaxError)
  }
  do {
    return try JSONDecoder().decode(T.self, from: Data(bytes))
  } catch let error as DecodingError {
    throw ContainerCheckpointError.invalidMember(source: source, member: member, reason: describe(error))
  } catch {
    throw ContainerCheckpointError.invalidMember(source: source, member: member, reason: "\(error)")
  }
}

/// A one-line reason for a decoding failure: what was wrong, and where.
private func describe(_ error: DecodingError) -> String {
  func place(_ path: [CodingKey]) -> String {
    path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
  }
  switch error {
  case .typeMismatch(let type, let context):
    return "expected \(typeName(type))\(place(context.codingPath))"
  case .valueNotFound(let type, let context):
    return "expected \(typeName(type))\(place(context.codingPath))"
  case .keyNotFound(let key, let context):
    return "\(key.stringValue) is missing\(place(context.codingPath))"
  case .dataCorrupted(let context):
    return context.codingPath.isEmpty ? "not valid JSON" : "bad value\(place(context.codingPath))"
  @unknown default:
    return "not valid JSON"
  }
}

/// A JSON name for a Swift type in messages.
private func typeName(_ type: Any.Type) -> String {
  switch type {
  case is String.Type: return "a string"
  case is Bool.Type: return "a boolean"
  default: return "an object"
  }
}
