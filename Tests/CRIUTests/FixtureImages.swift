import CRIU
import CheckpointKit
import TestSupport

/// The shared fixtures' checkpoints, opened with every image in memory and pages for random access.
enum FixtureImages {
  static let archives = [
    "busybox-sleep.tar", "busybox-sleep.tar.gz", "busybox-sleep.tar.zst", "busybox-sleep-default-compress.tar",
    "busybox-ptree.tar", "busybox-diff-1.tar", "busybox-diff-2.tar", "busybox-needle.tar", "busybox-in-pod.tar",
    "busybox-tty.tar", "busybox-memhog64.tar.zst", "busybox-shm.tar.gz", "debian-net.tar.gz",
  ]
  static let all = archives + ["raw/piggie"]

  static func open(_ name: String) throws -> CheckpointSource {
    try CheckpointSource(path: Fixtures.path(name))
  }

  /// Names (relative to the image directory) of the protobuf images of a source.
  static func protobufImages(_ source: CheckpointSource) -> [String] {
    source.memberNames.compactMap { name -> String? in
      guard name.hasPrefix(source.imagePrefix) else { return nil }
      let image = String(name.dropFirst(source.imagePrefix.count))
      guard !image.contains("/"), image.hasSuffix(".img") || image == "stats-dump",
        ImageDecoding.rawKind(of: image) == nil
      else { return nil }
      return image
    }
  }
}
