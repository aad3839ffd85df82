import CheckpointKit
import Foundation
import Glibc
import TestSupport

/// Kubelet stores built for end-to-end tests.
enum KubeletFixtures {
  /// Copies the bundled example store to `<directory>/<name>`.
  static func example(in directory: TemporaryDirectory, named name: String = "store") throws -> String {
    let path = directory.file(name)
    try Files.copyTree(Fixtures.kubeletStore, to: path)
    return path
  }

  /// The multi-pod store: two pods with equal names, a pod without containers, a missing archive (a4) and a
  /// directory where an archive should be (a5).
  static func multi(in directory: TemporaryDirectory, named name: String = "multi") throws -> String {
    let path = directory.file(name)
    mkdir(path, 0o700)
    try Files.write(try Files.read(Fixtures.path("kubelet-multi/checkpointed.pods")), to: path + "/checkpointed.pods")
    for id in ["a1", "a2", "a3"] {
      try TestArchive.write([.file("checkpoint/" + id, Array(id.utf8))], to: "\(path)/\(id).tar")
    }
    mkdir(path + "/a5.tar", 0o700)
    return path
  }

  /// A store with one pod whose archive holds `size` bytes of pseudo-random data.
  static func single(
    in directory: TemporaryDirectory, named name: String, sandboxID: String, size: Int = 4096,
    extraFields: String = ""
  ) throws -> String {
    let path = directory.file(name)
    mkdir(path, 0o700)
    let metadata = """
      {"version": 1\(extraFields), "CheckpointedPods": [{"SandboxID": "\(sandboxID)", "io.kubernetes.pod.name": "pod-\(sandboxID)",
        "io.kubernetes.pod.namespace": "default", "Containers": [{"io.kubernetes.container.name": "c", "Image": "img"}]}]}
      """
    try Files.write(Array(metadata.utf8), to: path + "/checkpointed.pods")
    try Files.write(pseudoRandomBytes(count: size, seed: UInt64(size) &+ 17), to: "\(path)/\(sandboxID).tar")
    return path
  }
}
