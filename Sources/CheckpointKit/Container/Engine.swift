/// The container engine that wrote a checkpoint, told by `spec.dump`'s `io.container.manager` annotation.
public enum Engine: String, CaseIterable, Sendable {
  /// `io.container.manager: libpod`.
  case podman = "Podman"
  /// `io.container.manager: cri-o`.
  case crio = "CRI-O"
  /// Anything else, including no annotation (containerd writes none).
  case containerd
  /// None: a bare CRIU image directory or an archive of one (`criu dump` output), which only `inspect` reads.
  case criu = "CRIU"

  /// The engine for a `spec.dump` annotation value (`nil` when absent).
  public init(containerManager: String?) {
    switch containerManager {
    case "libpod": self = .podman
    case "cri-o": self = .crio
    default: self = .containerd
    }
  }

  /// The name checkpointctl shows (`Podman`, `CRI-O`, `containerd`).
  public var displayName: String { rawValue }
}
