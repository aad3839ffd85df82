import FoundationEssentials
import Glibc
import SystemSupport

/// A content descriptor: what a blob is, its digest and size, and annotations.
public struct Descriptor: Equatable, Sendable {
  /// The blob's media type.
  public var mediaType: String
  /// The SHA-256 of the blob's bytes.
  public var digest: Digest
  /// The blob's size in bytes.
  public var size: Int64
  /// The platform of a manifest listed in an index.
  public var platform: Platform?
  /// Annotations (an OCI layout's tag is `org.opencontainers.image.ref.name`).
  public var annotations: [String: String]

  /// A descriptor from its fields.
  public init(
    mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String] = [:]
  ) {
    self.mediaType = mediaType
    self.digest = digest
    self.size = size
    self.platform = platform
    self.annotations = annotations
  }

  /// A descriptor of `bytes`.
  public init(mediaType: String, bytes: [UInt8], platform: Platform? = nil, annotations: [String: String] = [:]) {
    self.init(
      mediaType: mediaType, digest: Digest(of: bytes), size: Int64(bytes.count), platform: platform,
      annotations: annotations)
  }

  /// The descriptor as JSON: `mediaType`, `digest`, `size`, then `platform` and `annotations` when set.
  public var json: OrderedJSON {
    var members: [(String, OrderedJSON)] = [
      ("mediaType", .string(mediaType)), ("digest", .string(digest.description)), ("size", .integer(size)),
    ]
    if let platform {
      members.append(
        ("platform", .object([("architecture", .string(platform.architecture)), ("os", .string(platform.os))])))
    }
    if !annotations.isEmpty { members.append(("annotations", .sorted(annotations))) }
    return .object(members)
  }
}

/// The platform an image runs on (`architecture` in Go's names: `amd64`, `arm64`).
public struct Platform: Equatable, Sendable, Codable {
  /// Go's architecture name.
  public var architecture: String
  /// The operating system (`linux`).
  public var os: String

  /// A platform from its fields.
  public init(architecture: String, os: String) {
    self.architecture = architecture
    self.os = os
  }
}

/// The JSON shape of a descriptor, checked before use (digests and sizes are hostile).
struct DescriptorJSON: Decodable {
  var mediaType: String?
  var digest: String
  var size: Int64
  var platform: PlatformJSON?
  var annotations: [String: String]?

  struct PlatformJSON: Decodable {
    var architecture: String?
    var os: String?
  }

  func checked(in source: String) throws(OCIError) -> Descriptor {
    guard let parsed = Digest(digest) else {
      throw .invalidDocument(source: source, reason: "bad digest \(quotedForError(digest))")
    }
    guard size >= 0 else { throw .invalidDocument(source: source, reason: "negative size \(size) for \(digest)") }
    return Descriptor(
      mediaType: mediaType ?? "", digest: parsed, size: size,
      platform: platform.map { Platform(architecture: $0.architecture ?? "", os: $0.os ?? "") },
      annotations: annotations ?? [:])
  }
}

/// Decodes a bounded JSON document, naming `source` in errors.
func decodeDocument<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], source: String) throws(OCIError) -> T {
  guard bytes.count <= OCILimits.document else {
    throw .invalidDocument(source: source, reason: "larger than \(OCILimits.document) bytes")
  }
  do {
    return try JSONDecoder().decode(T.self, from: Data(bytes))
  } catch {
    throw .invalidDocument(source: source, reason: "not valid JSON of the expected shape")
  }
}

/// A string shown in a message: quoted, at most 80 characters.
func quotedForError(_ text: String) -> String {
  let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
  return "\"" + shown.replacing("\n", with: "\\n") + "\""
}

/// Size limits for documents read from files and registries.
public enum OCILimits {
  /// Largest manifest, index, configuration or `index.json` accepted (the registry's own limit is 4 MiB).
  public static let document = 4 << 20

  /// Reads a whole document file (`index.json`, a small blob, an auth file), refusing one over ``document``.
  static func readDocument(_ path: String) throws -> [UInt8] {
    try FileDescriptor(path: path, flags: O_RDONLY).readAll(limit: document)
  }
}

extension Platform {
  /// This host's platform in Go's names (`amd64`, `arm64`), operating system `linux`.
  public static var host: Platform {
    #if arch(x86_64)
      Platform(architecture: "amd64", os: "linux")
    #elseif arch(arm64)
      Platform(architecture: "arm64", os: "linux")
    #else
      Platform(architecture: "unknown", os: "linux")
    #endif
  }
}
