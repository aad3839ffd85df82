/// Names of the members of container checkpoints.
public enum CheckpointLayout {
  /// The CRIU image directory inside a container checkpoint.
  public static let imageDirectory = "checkpoint/"
  /// Podman's pre-dump images (`podman container checkpoint -P`), the parent of `checkpoint/`.
  public static let preCheckpointDirectory = "pre-checkpoint/"
  /// The JSON metadata files runtimes write beside the images. Each must be a regular file (upstream v1.6):
  /// one of another type under these names is refused, never followed or opened.
  public static let jsonMetadata: Set<String> = [
    "config.dump", "spec.dump", "network.status", "status.dump", "status", "pod.options", "pod.dump",
    "deleted.files",
  ]
  /// Largest member read into memory.
  public static let memberLimit: Int64 = 256 << 20

  /// True for raw memory pages images (`pages-<id>.img`), which are read at random offsets.
  public static func isPages(_ name: String) -> Bool {
    let base = Path.base(of: name)
    return base.hasPrefix("pages-") && base.hasSuffix(".img")
  }
}
