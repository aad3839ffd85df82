import Archive
import CRIU
import CheckpointKit
import Foundation
import SystemSupport
import TestSupport
import Testing

@Suite struct ShowTests {
  @Test func exampleTableMatchesGolden() throws {
    let directory = try TemporaryDirectory()
    _ = try KubeletFixtures.example(in: directory)
    let result = try CLI.run(["show", "-t", "store", "--show-pod-uid"], in: directory.path)
    #expect(result.status == 0)
    #expect(result.stderr == "")
    #expect(result.stdout == (try Fixtures.golden("show/example-pod-uid.txt", actual: result.stdout)))
  }

  @Test func multiPodTableMergesOnlyWithinAPod() throws {
    let directory = try TemporaryDirectory()
    _ = try KubeletFixtures.multi(in: directory)
    let plain = try CLI.run(["show", "--target", "multi"], in: directory.path)
    #expect(plain.status == 0)
    #expect(plain.stdout == (try Fixtures.golden("show/multi.txt", actual: plain.stdout)))
    let withUID = try CLI.run(["show", "--target", "multi", "--show-pod-uid"], in: directory.path)
    #expect(withUID.stdout == (try Fixtures.golden("show/multi-pod-uid.txt", actual: withUID.stdout)))
    // Every pod has its own row, including the one without containers.
    for pod in ["web", "empty-pod", "gone", "dir-not-file"] {
      #expect(plain.stdout.contains("| \(pod) "))
    }
  }

  @Test func jsonListsPodsContainersAndArchiveStatus() throws {
    let directory = try TemporaryDirectory()
    _ = try KubeletFixtures.multi(in: directory)
    let result = try CLI.run(["show", "-t", "multi", "--format", "json"], in: directory.path)
    #expect(result.status == 0)
    let document = try JSONValue(parsing: result.stdoutBytes)
    let pods = try #require(document.objectValue?["pods"]?.arrayValue)
    #expect(pods.count == 5)
    let found = pods.compactMap { $0.objectValue?["archive_found"] }
    #expect(found == [.bool(true), .bool(true), .bool(true), .bool(false), .bool(false)])
    #expect(pods[0].objectValue?["containers"]?.arrayValue?.count == 2)
    #expect(document.objectValue?["source"] == .string("multi/checkpointed.pods"))
    #expect(result.stdout == (try Fixtures.golden("show/multi.json", actual: result.stdout)))
  }

  @Test(arguments: [ArchiveFilter.none, .gzip, .zstd, .xz, .bzip2])
  func readsAnExtractedArchiveInPlace(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    let store = try KubeletFixtures.example(in: directory)
    let extracted = try CLI.run(["extract", "-t", store, "-o", directory.file("backup"), "-c", compression.name])
    #expect(extracted.status == 0)
    // A private, empty TMPDIR shows that nothing is unpacked anywhere.
    let scratch = directory.file("tmp")
    mkdir(scratch, 0o700)
    let fromArchive = try CLI.run(
      ["show", "-t", "backup", "--show-pod-uid"], in: directory.path, environment: ["TMPDIR": scratch])
    let fromDirectory = try CLI.run(["show", "-t", "store", "--show-pod-uid"], in: directory.path)
    #expect(fromArchive.status == 0)
    #expect(fromArchive.stdout.hasPrefix("\nDisplaying data from backup\n\n"))
    #expect(
      fromArchive.stdout.replacingOccurrences(of: "from backup\n", with: "from store/checkpointed.pods\n")
        == fromDirectory.stdout)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
  }

  @Test func archiveWithoutOneSandboxShowsItMissing() throws {
    let directory = try TemporaryDirectory()
    let metadata = try Files.read(Fixtures.path("kubelet-multi/checkpointed.pods"))
    try TestArchive.write(
      [.file("./checkpointed.pods", metadata), .file("./a2.tar", [1]), .directory("./a5.tar")],
      to: directory.file("partial.tar"), compression: .gzip)
    let result = try CLI.run(["show", "-t", "partial.tar", "--format", "json"], in: directory.path)
    #expect(result.status == 0)
    let pods = try #require(try JSONValue(parsing: result.stdoutBytes).objectValue?["pods"]?.arrayValue)
    #expect(
      pods.compactMap { $0.objectValue?["archive_found"] } == [
        .bool(false), .bool(true), .bool(false), .bool(false), .bool(false),
      ])
  }

  @Test func emptyStoreShowsTheHeader() throws {
    let directory = try TemporaryDirectory()
    mkdir(directory.file("empty"), 0o700)
    try Files.write(
      Array(#"{"version": 1, "CheckpointedPods": null}"#.utf8), to: directory.file("empty/checkpointed.pods"))
    let result = try CLI.run(["show", "-t", "empty"], in: directory.path)
    #expect(result.status == 0)
    #expect(result.stdout.contains("| POD | NAMESPACE | CONTAINER | IMAGE | ARCHIVE FOUND |"))
  }
}
