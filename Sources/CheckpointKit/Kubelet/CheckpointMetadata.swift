import Archive
import CRIU
import SystemSupport

/// The contents of a kubelet store's `checkpointed.pods` file.
///
/// The whole JSON document is kept, so fields this tool does not know (at any level) survive a rewrite.
/// Keys are matched as Go's `encoding/json` matches them: exactly, else case-insensitively.
public struct CheckpointMetadata: Equatable, Sendable {
  /// File name of the metadata in a store directory and at an extracted archive's root.
  public static let fileName = "checkpointed.pods"
  /// Largest metadata file read (it holds a few hundred bytes per pod).
  public static let sizeLimit = 64 << 20

  /// Key order of the Go structs, used when writing: known keys first, in declaration order.
  public static let keyOrder = [
    Keys.version, Keys.pods,
    CheckpointedPod.Keys.uid, CheckpointedPod.Keys.sandboxID, CheckpointedPod.Keys.name,
    CheckpointedPod.Keys.terminationGracePeriod, CheckpointedPod.Keys.namespace,
    CheckpointedPod.Keys.configSource, CheckpointedPod.Keys.configSeen, CheckpointedPod.Keys.containerManager,
    CheckpointedPod.Keys.containers,
    PodContainer.Keys.name, PodContainer.Keys.id, PodContainer.Keys.terminationMessagePath,
    PodContainer.Keys.terminationMessagePolicy, PodContainer.Keys.restartCount,
    PodContainer.Keys.terminationMessagePathUID, PodContainer.Keys.image,
  ]

  enum Keys {
    static let version = "version"
    static let pods = "CheckpointedPods"
  }

  /// Every top-level member except the pod list.
  public var fields: [String: JSONValue]
  /// The pods, in file order.
  public var pods: [CheckpointedPod]
  /// The key the pod list was read under (kept when rewriting).
  private var podsKey: String

  /// An empty document.
  public init(version: Int64? = nil) {
    fields = version.map { [Keys.version: .integer($0)] } ?? [:]
    pods = []
    podsKey = Keys.pods
  }

  /// Parses and checks `checkpointed.pods` text; `source` names the file in errors.
  public init(json bytes: [UInt8], source: String) throws {
    let document: JSONValue
    do {
      document = try JSONValue(parsing: bytes)
    } catch {
      throw KubeletStoreError.invalidMetadata(source: source, reason: "not valid JSON")
    }
    guard var object = document.objectValue else {
      throw KubeletStoreError.invalidMetadata(
        source: source, reason: "the top level is \(document.typeName), not an object")
    }
    let key = JSONValue.key(Keys.pods, in: object) ?? Keys.pods
    var pods: [CheckpointedPod] = []
    switch object.removeValue(forKey: key) ?? .null {
    case .null: break
    case .array(let elements):
      for (index, element) in elements.enumerated() {
        pods.append(try CheckpointedPod(element, source: source, index: index))
      }
    case let other:
      throw KubeletStoreError.invalidMetadata(source: source, reason: "\(Keys.pods) is \(other.typeName), not an array")
    }
    if let version = JSONValue.member(Keys.version, in: object), version != .null, version.integerValue == nil {
      throw KubeletStoreError.invalidMetadata(source: source, reason: "version is \(version.typeName), not an integer")
    }
    self.fields = object
    self.pods = pods
    self.podsKey = key
  }

  /// The `version` field, if present.
  public var version: JSONValue? {
    JSONValue.member(Keys.version, in: fields).flatMap { $0 == .null ? nil : $0 }
  }

  /// The document as Go's `json.MarshalIndent(v, "", "  ")` would lay it out, plus a final newline.
  public func serialized() -> [UInt8] {
    var object = fields
    object[podsKey] = .array(pods.map { .object($0.fields) })
    return Array((JSONValue.object(object).formatted(keyOrder: Self.keyOrder) + "\n").utf8)
  }
}

/// One pod of `checkpointed.pods`.
public struct CheckpointedPod: Equatable, Sendable {
  enum Keys {
    static let uid = "io.kubernetes.pod.uid"
    static let sandboxID = "SandboxID"
    static let name = "io.kubernetes.pod.name"
    static let terminationGracePeriod = "io.kubernetes.pod.terminationGracePeriod"
    static let namespace = "io.kubernetes.pod.namespace"
    static let configSource = "kubernetes.io/config.source"
    static let configSeen = "kubernetes.io/config.seen"
    static let containerManager = "io.container.manager"
    static let containers = "Containers"
    static let stringKeys = [uid, sandboxID, name, namespace, configSource, configSeen, containerManager]
  }

  /// Every member of the pod object, known or not.
  public var fields: [String: JSONValue]
  /// The pod's containers (`Containers`, which may be null or absent).
  public let containers: [PodContainer]

  init(_ value: JSONValue, source: String, index: Int) throws {
    let place = "pod \(index + 1)"
    guard let object = value.objectValue else {
      throw KubeletStoreError.invalidMetadata(source: source, reason: "\(place) is \(value.typeName), not an object")
    }
    try requireStrings(Keys.stringKeys, in: object, source: source, place: place)
    try requireIntegers([Keys.terminationGracePeriod], in: object, source: source, place: place)
    var containers: [PodContainer] = []
    switch JSONValue.member(Keys.containers, in: object) ?? .null {
    case .null: break
    case .array(let elements):
      for (number, element) in elements.enumerated() {
        containers.append(try PodContainer(element, source: source, place: "container \(number + 1) of \(place)"))
      }
    case let other:
      throw KubeletStoreError.invalidMetadata(
        source: source, reason: "\(Keys.containers) of \(place) is \(other.typeName), not an array")
    }
    self.fields = object
    self.containers = containers
  }

  /// `SandboxID`: the pod's archive is `<SandboxID>.tar`.
  public var sandboxID: String { JSONValue.member(Keys.sandboxID, in: fields)?.stringValue ?? "" }
  /// `io.kubernetes.pod.name`.
  public var name: String { JSONValue.member(Keys.name, in: fields)?.stringValue ?? "" }
  /// `io.kubernetes.pod.namespace`.
  public var namespace: String { JSONValue.member(Keys.namespace, in: fields)?.stringValue ?? "" }
  /// `io.kubernetes.pod.uid`.
  public var uid: String { JSONValue.member(Keys.uid, in: fields)?.stringValue ?? "" }

  /// The archive file name for this pod, or `nil` when the SandboxID cannot name a file in the store
  /// (empty, `.`, `..`, or containing `/` or NUL).
  public var archiveName: String? {
    let id = sandboxID
    guard !id.isEmpty, id != ".", id != "..", !id.contains("/"), !id.contains("\0") else { return nil }
    return id + ".tar"
  }
}

/// One container of a pod in `checkpointed.pods`.
public struct PodContainer: Equatable, Sendable {
  enum Keys {
    static let name = "io.kubernetes.container.name"
    static let id = "id"
    static let terminationMessagePath = "io.kubernetes.container.terminationMessagePath"
    static let terminationMessagePolicy = "io.kubernetes.container.terminationMessagePolicy"
    static let restartCount = "io.kubernetes.container.restartCount"
    static let terminationMessagePathUID = "terminationMessagePathUID"
    static let image = "Image"
  }

  /// Every member of the container object.
  public let fields: [String: JSONValue]

  init(_ value: JSONValue, source: String, place: String) throws {
    guard let object = value.objectValue else {
      throw KubeletStoreError.invalidMetadata(source: source, reason: "\(place) is \(value.typeName), not an object")
    }
    try requireStrings(
      [
        Keys.name, Keys.id, Keys.terminationMessagePath, Keys.terminationMessagePolicy, Keys.terminationMessagePathUID,
        Keys.image,
      ],
      in: object, source: source, place: place)
    try requireIntegers([Keys.restartCount], in: object, source: source, place: place)
    fields = object
  }

  /// `io.kubernetes.container.name`.
  public var name: String { JSONValue.member(Keys.name, in: fields)?.stringValue ?? "" }
  /// `id`.
  public var id: String { JSONValue.member(Keys.id, in: fields)?.stringValue ?? "" }
  /// `Image`.
  public var image: String { JSONValue.member(Keys.image, in: fields)?.stringValue ?? "" }
}

/// Fails unless each of `names` that `object` has (as Go finds it, see ``JSONValue/key(_:in:)``) is null or a
/// string.
private func requireStrings(_ names: [String], in object: [String: JSONValue], source: String, place: String) throws {
  for name in names {
    guard let value = JSONValue.member(name, in: object), value != .null else { continue }
    guard value.stringValue != nil else {
      throw KubeletStoreError.invalidMetadata(
        source: source, reason: "\(name) of \(place) is \(value.typeName), not a string")
    }
  }
}

/// Fails unless each of `names` that `object` has (as Go finds it) is null or an integer.
private func requireIntegers(_ names: [String], in object: [String: JSONValue], source: String, place: String) throws {
  for name in names {
    guard let value = JSONValue.member(name, in: object), value != .null else { continue }
    guard value.integerValue != nil else {
      throw KubeletStoreError.invalidMetadata(
        source: source, reason: "\(name) of \(place) is \(value.typeName), not an integer")
    }
  }
}
