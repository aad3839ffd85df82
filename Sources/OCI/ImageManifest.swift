import SystemSupport

/// An OCI image manifest: a configuration and layers.
public struct ImageManifest: Equatable, Sendable {
  /// The manifest's media type (`application/vnd.oci.image.manifest.v1+json`, or Docker's when read).
  public var mediaType: String
  /// The configuration blob.
  public var config: Descriptor
  /// The layers, lowest first.
  public var layers: [Descriptor]
  /// Annotations.
  public var annotations: [String: String]

  /// An OCI manifest from its parts.
  public init(config: Descriptor, layers: [Descriptor], annotations: [String: String] = [:]) {
    mediaType = MediaType.imageManifest
    self.config = config
    self.layers = layers
    self.annotations = annotations
  }

  /// Decodes a manifest read from `source` (a file or a registry, named in errors).
  public init(json bytes: [UInt8], source: String) throws(OCIError) {
    struct Shape: Decodable {
      var schemaVersion: Int?
      var mediaType: String?
      var config: DescriptorJSON
      var layers: [DescriptorJSON]?
      var annotations: [String: String]?
    }
    let shape = try decodeDocument(Shape.self, bytes, source: source)
    guard shape.schemaVersion == 2 else {
      throw .invalidDocument(source: source, reason: "schemaVersion is not 2")
    }
    mediaType = shape.mediaType ?? MediaType.imageManifest
    config = try shape.config.checked(in: source)
    var layers: [Descriptor] = []
    for layer in shape.layers ?? [] { layers.append(try layer.checked(in: source)) }
    self.layers = layers
    annotations = shape.annotations ?? [:]
  }

  /// The manifest as written: `schemaVersion`, `mediaType`, `config`, `layers`, `annotations` (keys sorted).
  public var json: OrderedJSON {
    var members: [(String, OrderedJSON)] = [
      ("schemaVersion", .integer(2)), ("mediaType", .string(mediaType)), ("config", config.json),
      ("layers", .array(layers.map(\.json))),
    ]
    if !annotations.isEmpty { members.append(("annotations", .sorted(annotations))) }
    return .object(members)
  }
}

/// An OCI image index: manifests (one per platform) and annotations.
public struct ImageIndex: Equatable, Sendable {
  /// The listed manifests (or, in an OCI layout's `index.json`, tagged images).
  public var manifests: [Descriptor]
  /// Annotations.
  public var annotations: [String: String]

  /// An index from its parts.
  public init(manifests: [Descriptor], annotations: [String: String] = [:]) {
    self.manifests = manifests
    self.annotations = annotations
  }

  /// Decodes an index (or a Docker manifest list) read from `source`.
  public init(json bytes: [UInt8], source: String) throws(OCIError) {
    struct Shape: Decodable {
      var schemaVersion: Int?
      var manifests: [DescriptorJSON]
      var annotations: [String: String]?
    }
    let shape = try decodeDocument(Shape.self, bytes, source: source)
    guard shape.schemaVersion == 2 else {
      throw .invalidDocument(source: source, reason: "schemaVersion is not 2")
    }
    var manifests: [Descriptor] = []
    for manifest in shape.manifests { manifests.append(try manifest.checked(in: source)) }
    self.manifests = manifests
    annotations = shape.annotations ?? [:]
  }

  /// The index as written: `schemaVersion`, `mediaType`, `manifests`, `annotations` (keys sorted).
  public var json: OrderedJSON {
    var members: [(String, OrderedJSON)] = [
      ("schemaVersion", .integer(2)), ("mediaType", .string(MediaType.imageIndex)),
      ("manifests", .array(manifests.map(\.json))),
    ]
    if !annotations.isEmpty { members.append(("annotations", .sorted(annotations))) }
    return .object(members)
  }

  /// The manifest to use from this index: the only one, else the one for `platform`, else the first for Linux.
  public func manifest(for platform: Platform?, source: String) throws(OCIError) -> Descriptor {
    if manifests.count == 1, let only = manifests.first { return only }
    if let platform, let match = manifests.first(where: { $0.platform == platform }) { return match }
    if let linux = manifests.first(where: { $0.platform?.os == "linux" }) { return linux }
    guard let first = manifests.first else {
      throw .invalidDocument(source: source, reason: "the index lists no manifest")
    }
    return first
  }
}

/// An OCI image configuration, as much as checkpoint images need.
public struct ImageConfig: Equatable, Sendable {
  /// Go's architecture name (`amd64`).
  public var architecture: String
  /// The operating system (`linux`).
  public var os: String
  /// RFC 3339 creation time, or `nil`.
  public var created: String?
  /// The digests of the uncompressed layers.
  public var diffIDs: [Digest]

  /// A configuration from its fields.
  public init(architecture: String, os: String, created: String?, diffIDs: [Digest]) {
    self.architecture = architecture
    self.os = os
    self.created = created
    self.diffIDs = diffIDs
  }

  /// Decodes a configuration read from `source`.
  public init(json bytes: [UInt8], source: String) throws(OCIError) {
    struct Shape: Decodable {
      var architecture: String?
      var os: String?
      var created: String?
      var rootfs: RootFS?
      struct RootFS: Decodable {
        var diff_ids: [String]?
      }
    }
    let shape = try decodeDocument(Shape.self, bytes, source: source)
    architecture = shape.architecture ?? ""
    os = shape.os ?? ""
    created = shape.created
    var ids: [Digest] = []
    for text in shape.rootfs?.diff_ids ?? [] {
      guard let digest = Digest(text) else {
        throw .invalidDocument(source: source, reason: "bad diff_id \(quotedForError(text))")
      }
      ids.append(digest)
    }
    diffIDs = ids
  }

  /// The configuration as written: `created` (when known), `architecture`, `os`, an empty `config` (no
  /// entrypoint: the image is data, restored by an engine, never run as is), `rootfs`.
  public var json: OrderedJSON {
    var members: [(String, OrderedJSON)] = []
    if let created { members.append(("created", .string(created))) }
    members += [
      ("architecture", .string(architecture)), ("os", .string(os)), ("config", .object([])),
      (
        "rootfs", .object([("type", .string("layers")), ("diff_ids", .array(diffIDs.map { .string($0.description) }))])
      ),
    ]
    return .object(members)
  }
}
