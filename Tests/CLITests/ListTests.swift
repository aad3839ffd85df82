import CheckpointKit
import Foundation
import Glibc
import TestSupport
import Testing

/// A kubelet checkpoint directory as the kubelet's checkpoint API fills it, like shared/fixtures/kubelet-dir.
enum KubeletDirectory {
  /// The archive names, and the fixture each is a copy of.
  static let copies = [
    ("checkpoint-fx-pod_default-fx-podctr-2026-11-29T12:21:24Z.tar", "busybox-in-pod.tar"),
    ("checkpoint-fx-sleep_default-fx-sleep-2026-11-29T12:19:10Z.tar", "busybox-sleep.tar"),
  ]
  /// The archive names, sorted.
  static var names: [String] { copies.map(\.0) }

  /// Makes `<directory>/kubelet-dir`.
  static func make(in directory: TemporaryDirectory) throws -> String {
    let path = directory.file("kubelet-dir")
    mkdir(path, 0o700)
    for (name, fixture) in copies { try Files.copyTree(Fixtures.path(fixture), to: path + "/" + name) }
    return path
  }
}

@Suite struct ListTests {
  @Test func kubeletDirectory() throws {
    let directory = try TemporaryDirectory()
    _ = try KubeletDirectory.make(in: directory)
    let result = try CLI.run(["list", "kubelet-dir"], in: directory.path)
    #expect(result.status == 0)
    #expect(result.stderr == "")
    #expect(result.stdout == (try Fixtures.golden("list/kubelet-dir.txt", actual: result.stdout)))
    // Upstream prints Go's zero time (`01 Jan 01 00:00 UTC`) for these Podman archives, which record no
    // checkpointedTime; ours is the time in the file name, so TIME CHECKPOINTED differs on purpose, and the rows
    // are in that time's order (fx-sleep was checkpointed first) where upstream's are in name order.
    // Everything else is upstream's, column widths included.
    let upstream = try referenceOutput("list.kubelet-dir.txt")
    let zero = "01 Jan 01 00:00 UTC"
    let ours = result.stdout
      .replacingOccurrences(of: "29 Nov 26 12:21 UTC", with: zero)
      .replacingOccurrences(of: "29 Nov 26 12:19 UTC", with: zero)
    #expect(ours.split(separator: "\n").prefix(3) == upstream.split(separator: "\n").prefix(3))
    #expect(Set(ours.split(separator: "\n")) == Set(upstream.split(separator: "\n")))
    let rows = result.stdout.split(separator: "\n").dropFirst(3)
    #expect(rows.first?.contains("fx-sleep    Podman   29 Nov 26 12:19 UTC") == true)
    #expect(rows.last?.contains("fx-podctr   Podman   29 Nov 26 12:21 UTC") == true)
  }

  @Test func defaultDirectory() throws {
    let result = try CLI.run(["list"])
    #expect(result.status == 0)
    let found = try CheckpointList.archives(in: CheckpointList.defaultDirectory)
    if found.isEmpty {
      #expect(result.stdout == (try referenceOutput("list.default-dir.txt")))
    } else {
      #expect(result.stdout.hasPrefix("Listing checkpoints in path: /var/lib/kubelet/checkpoints/\n"))
    }
  }

  @Test func severalDirectoriesOneTableByTime() throws {
    let directory = try TemporaryDirectory()
    _ = try KubeletDirectory.make(in: directory)
    mkdir(directory.file("other"), 0o700)
    // containerd records checkpointedTime (09:20Z), which comes before the Podman file-name times.
    try EngineCheckpoints.write(
      to: directory.file("other/checkpoint-web-0_prod-web-2024-02-09T09:20:00Z.tar"),
      config: EngineCheckpoints.containerdConfig, spec: EngineCheckpoints.containerdSpec)
    try EngineCheckpoints.write(
      to: directory.file("other/checkpoint-counters_default-counter-2024-01-27T18:40:45Z.tar"),
      config: EngineCheckpoints.crioConfig, spec: EngineCheckpoints.crioSpec)
    try Files.write([0], to: directory.file("other/checkpoint-broken.tar"))
    mkdir(directory.file("empty"), 0o700)
    let result = try CLI.run(["list", "kubelet-dir", "empty", "other", "missing"], in: directory.path)
    #expect(result.status == 0)
    #expect(result.stderr.hasPrefix("Error extracting information from other/checkpoint-broken.tar: "))
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(result.stdout == (try Fixtures.golden("list/several.txt", actual: result.stdout)))
    let lines = result.stdout.split(separator: "\n")
    #expect(lines[0] == "Listing checkpoints in path: kubelet-dir")
    #expect(lines[1] == "Listing checkpoints in path: other")
    #expect(lines[4].hasPrefix("default     counters   counter     CRI-O        28 Jan 24 00:10 +0530"))
    #expect(lines[5].hasPrefix("prod        web-0      web         containerd   09 Feb 24 10:20 +0100"))
  }

  @Test func nothingFound() throws {
    let directory = try TemporaryDirectory()
    try Files.write([1], to: directory.file("not-a-checkpoint.tar"))
    let result = try CLI.run(["list", directory.path, "/nonexistent"])
    #expect(result.status == 0)
    #expect(result.stdout == "No checkpoints found in [\(directory.path) /nonexistent]\n")
  }
}
