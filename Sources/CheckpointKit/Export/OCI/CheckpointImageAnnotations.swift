import Archive
import CRIU
import OCI
import SystemSupport

/// The annotations a checkpoint image carries on both its manifest and its index, so that every engine
/// recognises it: upstream checkpointctl's `org.criu.checkpoint.*` keys (its eight, set even when empty, plus the
/// ones it defines but never sets, when the checkpoint knows them), CRI-O's
/// `io.kubernetes.cri-o.annotations.checkpoint.*` and Podman's `io.podman.annotations.checkpoint.*`.
public enum CheckpointImageAnnotations {
  /// Upstream's prefix.
  public static let criuPrefix = "org.criu.checkpoint."
  /// CRI-O's prefix (`…checkpoint.name` marks the image as a checkpoint).
  public static let crioPrefix = "io.kubernetes.cri-o.annotations.checkpoint."
  /// Podman's prefix (`…checkpoint.runtime.name` makes `podman run IMAGE` restore).
  public static let podmanPrefix = "io.podman.annotations.checkpoint."
  /// The key containerd tests on what the tag resolves to.
  public static let containerName = criuPrefix + "container.name"

  /// What the annotations are made from.
  struct Facts {
    var checkpoint: ContainerCheckpoint
    /// `config.dump` as loose JSON (Podman's `RawImageName`, `pod`).
    var rawConfig: JSONValue
    /// Go's architecture name from the CRIU core images.
    var architecture: String?
  }

  /// The annotations for a checkpoint, keys sorted by the caller when printed.
  static func make(_ facts: Facts) -> [String: String] {
    let checkpoint = facts.checkpoint
    let config = checkpoint.config
    let spec = checkpoint.annotations
    var result: [String: String] = [:]
    // Upstream's eight, with upstream's values (empty ones included, as upstream sets them).
    result[criuPrefix + "engine.name"] = checkpoint.engine.displayName
    result[criuPrefix + "container.name"] = checkpoint.name
    result[criuPrefix + "pod.name"] = checkpoint.podName
    result[criuPrefix + "pod.namespace"] = checkpoint.namespace
    result[criuPrefix + "rootfsImageUserRequested"] = config.rootfsImage ?? ""
    result[criuPrefix + "rootfsImageName"] = config.rootfsImageName ?? ""
    result[criuPrefix + "rootfsImageID"] = config.rootfsImageRef ?? ""
    result[criuPrefix + "runtime.name"] = config.runtime ?? ""

    // Keys upstream defines and never sets, when the checkpoint knows them.
    let rawImageName = facts.rawConfig.member("rawImageName")?.stringValue ?? spec["io.kubernetes.cri-o.ImageName"]
    let podUID = spec["io.kubernetes.pod.uid"] ?? spec["io.kubernetes.cri.sandbox-uid"]
    let podID =
      spec["io.kubernetes.cri-o.SandboxID"] ?? spec["io.kubernetes.cri.sandbox-id"]
      ?? facts.rawConfig.member("pod")?.stringValue
    var known: [String: String?] = [
      "rawImageName": rawImageName, "pod.uid": podUID, "pod.id": podID, "host.arch": facts.architecture,
    ]
    if let imageID = config.rootfsImageRef, imageID.count == 64, imageID.allSatisfy(\.isHexDigit) {
      known["rootfsImageSha"] = "sha256:" + imageID
    }
    for (key, value) in known {
      if let value, !value.isEmpty { result[criuPrefix + key] = value }
    }

    // CRI-O restores an image with `…checkpoint.name` on its manifest.
    result[crioPrefix + "name"] = checkpoint.name
    // Podman restores `podman run IMAGE` when the manifest names the runtime.
    result[podmanPrefix + "name"] = checkpoint.name
    result[podmanPrefix + "runtime.name"] = config.runtime ?? ""
    let shared: [String: String?] = [
      "rootfsImageID": config.rootfsImageRef, "rootfsImageName": config.rootfsImageName,
      "rawImageName": rawImageName,
    ]
    for (key, value) in shared {
      guard let value, !value.isEmpty else { continue }
      result[crioPrefix + key] = value
      result[podmanPrefix + key] = value
    }
    if let arch = facts.architecture { result[podmanPrefix + "host.arch"] = arch }
    return result
  }

  /// Parses `--annotation KEY=VALUE`.
  public static func parse(_ text: String) throws -> (String, String) {
    guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
      throw OCIImageError.badAnnotation(text)
    }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
  }

  /// Go's architecture name for a CRIU machine type.
  static func goArchitecture(_ machine: CoreEntry.March) -> String? {
    switch machine {
    case .x8664: return "amd64"
    case .aarch64: return "arm64"
    case .arm: return "arm"
    case .ppc64: return "ppc64le"
    case .s390: return "s390x"
    case .mips: return "mips64le"
    case .loongarch64: return "loong64"
    case .riscv64: return "riscv64"
    default: return nil
    }
  }
}

/// Errors of `build` and of reading checkpoint images.
public enum OCIImageError: Error, Equatable, CustomStringConvertible {
  /// An `--annotation` without `KEY=`.
  case badAnnotation(String)
  /// A compression a layer cannot use.
  case badCompression(String)
  /// A member the layer cannot hold.
  case unsupportedMember(source: String, member: String, kind: String)

  /// One line naming what failed.
  public var description: String {
    switch self {
    case .badAnnotation(let text):
      return "invalid annotation \(quoted(text)): expected KEY=VALUE"
    case .badCompression(let name):
      return "layer compression \(quoted(name)) is not supported (use gzip, zstd or none)"
    case .unsupportedMember(let source, let member, let kind):
      return
        "\(source): member \(quoted(member)) is a \(kind); a checkpoint image layer holds only files and directories"
    }
  }
}
