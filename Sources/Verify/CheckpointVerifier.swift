import OCI
import SystemSupport

/// One kind of checkpoint `verify` knows: whether an input is of that kind, and how it is checked. A new kind
/// (pod checkpoints, containerd checkpoint images) is a conformer added to ``Verifier/kinds`` before the kinds
/// it would otherwise be taken for.
public protocol CheckpointVerifier: Sendable {
  /// The kind's name in reports (`container`, `kubelet-store`).
  var kind: String { get }
  /// True when `path` is a checkpoint of this kind (a cheap look: a name, a file's presence).
  func recognises(_ path: String) -> Bool
  /// Checks the checkpoint `path` in one pass and reports every problem; never throws.
  func verify(_ path: String, options: VerifyOptions) -> VerifyReport
}

/// How checkpoints are reached.
public struct VerifyOptions: Sendable {
  /// Registry access for `docker://` checkpoints.
  public var registry: RegistryOptions
  /// The dumping host's page size (CRIU does not record it).
  public var pageSize: Int

  /// Options with the default registry access and 4 KiB pages.
  public init(registry: RegistryOptions = RegistryOptions(), pageSize: Int = 4096) {
    self.registry = registry
    self.pageSize = pageSize
  }
}

/// `verify`: each input checked by the first verifier that recognises it.
public enum Verifier {
  /// The kinds, most specific first: the container verifier takes anything (an unreadable input is its problem).
  public static let kinds: [any CheckpointVerifier] = [
    KubeletStoreVerifier(), PodCheckpointVerifier(), PodStoreVerifier(), ContainerCheckpointVerifier(),
  ]

  /// One report per input, in order.
  public static func verify(_ paths: [String], options: VerifyOptions = VerifyOptions()) -> [VerifyReport] {
    paths.map { path in
      let verifier = kinds.first { $0.recognises(path) } ?? ContainerCheckpointVerifier()
      return verifier.verify(path, options: options)
    }
  }
}

/// A problem's text: an error's one-line description.
func describe(_ error: Error) -> String { singleLine("\(error)") }
