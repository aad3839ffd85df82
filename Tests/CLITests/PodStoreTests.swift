import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The kubelet's pod checkpoint store (`/var/lib/kubelet/pod-checkpoints`): `show` of a
/// store built from the pod fixtures (the shared `kubelet-pod-checkpoints` fixture: the CRI-O pod as `web` and the
/// containerd pod as `db`), with the manifests' times fixed.
@Suite struct PodStoreTests {
  static let web = "checkpoint-web_default-2026-12-01T10:00:00Z"
  static let db = "checkpoint-db_prod-2026-12-02T11:30:00Z"
  /// A pod checkpoint the runtime never finished: the CRI-O pod without its manifest.
  static let aborted = "checkpoint-web_default-2026-12-03T08:15:00.25+01:00"

  /// The store `work/<name>`: `web` and `db`, and with `incomplete` the aborted one.
  static func store(in work: TemporaryDirectory, named name: String = "pod-checkpoints", incomplete: Bool = false)
    throws -> String
  {
    let store = work.file(name)
    #expect(mkdir(store, 0o755) == 0)
    _ = try PodCheckpointTests.copy("crio-pod", to: work, as: "\(name)/\(web)")
    _ = try PodCheckpointTests.copy("containerd-pod", to: work, as: "\(name)/\(db)")
    if incomplete {
      _ = try PodCheckpointTests.copy("crio-pod", to: work, as: "\(name)/\(aborted)")
      #expect(unlink("\(store)/\(aborted)/checkpoint-manifest.json") == 0)
    }
    return store
  }

  @Test func showListsThePodCheckpoints() throws {
    let work = try TemporaryDirectory()
    _ = try Self.store(in: work, incomplete: true)
    let table = try CLI.run(["show", "-t", "pod-checkpoints"], in: work.path)
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.stderr == "")
    #expect(table.stdout == (try Fixtures.golden("pods/store-show.txt", actual: table.stdout)))
    let json = try CLI.run(["show", "-t", "pod-checkpoints", "--format", "json"], in: work.path)
    #expect(json.status == 0, "\(json.stderr)")
    #expect(json.stdout == (try Fixtures.golden("pods/store-show.json", actual: json.stdout)))
    let entries = try #require(JSONValue(parsing: json.stdoutBytes).member("pod_checkpoints")?.arrayValue)
    #expect(entries.map { $0.member("name")?.stringValue } == [Self.db, Self.web, Self.aborted])
    #expect(entries.map { $0.member("state")?.stringValue } == ["complete", "complete", "incomplete"])
    #expect(entries[2].member("namespace")?.stringValue == "default")
    #expect(entries[2].member("checkpoint") == nil)
    #expect(entries[1].member("checkpoint")?.member("checkpointed")?.stringValue == "2026-12-01T10:00:01Z")
  }

  @Test func theContainerStoreIsStillShownAsBefore() throws {
    // A directory with checkpointed.pods is a container store even with pod checkpoints beside it.
    let work = try TemporaryDirectory()
    let store = try Self.store(in: work)
    try Files.write(try Files.read(Fixtures.kubeletStore + "/checkpointed.pods"), to: store + "/checkpointed.pods")
    let shown = try CLI.run(["show", "-t", store])
    #expect(shown.stdout.contains("ARCHIVE FOUND"), "\(shown.stdout)")
  }
}
