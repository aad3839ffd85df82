import CheckpointKit
import Foundation
import Glibc
import Rendering
import TestSupport
import Testing

@Suite struct CheckpointListTests {
  @Test func timeFromTheKubeletFileName() throws {
    let time = try #require(
      CheckpointList.timestamp(inFileName: "checkpoint-fx-pod_default-fx-podctr-2026-11-29T12:21:24Z.tar"))
    #expect(time.rfc822 == "29 Nov 26 12:21 UTC")
    // A container name with digits and dashes before the time.
    let tricky = try #require(
      CheckpointList.timestamp(inFileName: "checkpoint-web_prod-app-2024-10-2026-01-02T03:04:05+01:00.tar.gz"))
    #expect(tricky.rfc3339 == "2026-01-02T03:04:05+01:00")
    #expect(CheckpointList.timestamp(inFileName: "checkpoint-web_prod-app.tar") == nil)
    #expect(CheckpointList.timestamp(inFileName: "checkpoint-2026-11-29T12:21:24Z") != nil)
  }

  @Test func sortsByTimeThenNameAndReportsBadArchives() throws {
    let directory = try TemporaryDirectory()
    let dir = directory.file("store")
    mkdir(dir, 0o700)
    // containerd: checkpointedTime (10:20 +01:00 = 09:20Z) wins over the later time in the file name.
    try EngineArchives.write(
      to: dir + "/checkpoint-web-0_prod-web-2024-02-09T12:00:00Z.tar", config: EngineArchives.containerdConfig,
      spec: EngineArchives.containerdSpec)
    // Podman: no checkpointedTime, so the file name's.
    try Files.copyTree(Fixtures.path("busybox-sleep.tar"), to: dir + "/checkpoint-b_default-x-2024-02-09T09:00:00Z.tar")
    try Files.copyTree(Fixtures.path("busybox-sleep.tar"), to: dir + "/checkpoint-a_default-x-2024-02-09T09:00:00Z.tar")
    try Files.copyTree(Fixtures.path("busybox-tty.tar"), to: dir + "/checkpoint-no-time.tar")
    try Files.write([1, 2, 3], to: dir + "/checkpoint-broken.tar")
    mkdir(dir + "/checkpoint-a-directory", 0o700)
    try Files.write([], to: dir + "/other.tar")
    let list = CheckpointList(directories: [dir, directory.file("missing")])
    #expect(list.listedDirectories == [dir])
    #expect(
      list.entries.map(\.fileName) == [
        "checkpoint-a_default-x-2024-02-09T09:00:00Z.tar", "checkpoint-b_default-x-2024-02-09T09:00:00Z.tar",
        "checkpoint-web-0_prod-web-2024-02-09T12:00:00Z.tar", "checkpoint-no-time.tar",
      ])
    let containerd = try #require(list.entries.first { $0.engine == .containerd })
    #expect(containerd.time?.rfc822 == "09 Feb 24 10:20 +0100")
    #expect(containerd.pod == "web-0" && containerd.namespace == "prod" && containerd.container == "web")
    #expect(list.failures.map(\.path) == [dir + "/checkpoint-broken.tar"])
    #expect(list.failures.first?.description.contains(dir + "/checkpoint-broken.tar") == true)
    #expect(list.text.hasPrefix("Listing checkpoints in path: \(dir)\nNAMESPACE   POD     CONTAINER   ENGINE"))
  }

  @Test func nothingFound() {
    let list = CheckpointList(directories: ["/nonexistent/a", "/nonexistent/b"])
    #expect(list.text == "No checkpoints found in [/nonexistent/a /nonexistent/b]\n")
    #expect(list.failures.isEmpty)
  }

  @Test func kubeletArchivesOnlyWithoutPodMetadata() throws {
    let directory = try TemporaryDirectory()
    #expect(try CheckpointList.kubeletArchives(inStore: directory.path) == nil)
    try Files.copyTree(Fixtures.path("busybox-sleep.tar"), to: directory.file("checkpoint-b.tar"))
    try Files.copyTree(Fixtures.path("busybox-sleep.tar"), to: directory.file("checkpoint-a.tar"))
    #expect(
      try CheckpointList.kubeletArchives(inStore: directory.path) == [
        directory.file("checkpoint-a.tar"), directory.file("checkpoint-b.tar"),
      ])
    try Files.write(Array(#"{"version": 1}"#.utf8), to: directory.file("checkpointed.pods"))
    #expect(try CheckpointList.kubeletArchives(inStore: directory.path) == nil)
    #expect(try CheckpointList.kubeletArchives(inStore: directory.file("checkpoint-a.tar")) == nil)
  }
}
