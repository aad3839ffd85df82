import Archive
import CRIU
import CheckpointKit
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct ContainerCheckpointTests {
  @Test func podmanFixture() throws {
    let checkpoint = try ContainerCheckpoint(path: Fixtures.path("busybox-sleep.tar"))
    #expect(checkpoint.engine == .podman)
    #expect(checkpoint.name == "fx-sleep")
    #expect(checkpoint.image == "localhost/fx-busybox:1.35")
    #expect(checkpoint.id == "0f674aee6d9562cc20c6b76357079eb7a312cf3ec8ec00ec98392539d290d2d1")
    #expect(checkpoint.shortID == "0f674aee6d95")
    #expect(checkpoint.runtime == "runc")
    #expect(checkpoint.created == "2026-11-29T12:19:07Z")
    #expect(checkpoint.config.createdTime == "2026-11-29T12:19:07.962708643Z")
    // Podman records no checkpoint time, and no pod in the CRI sense.
    #expect(checkpoint.checkpointed == nil)
    #expect(checkpoint.podName == "" && checkpoint.namespace == "")
    #expect(checkpoint.annotations["io.container.manager"] == "libpod")
    // Sizes come from the member index: every regular file under checkpoint/ (`tar -tvf` sums to 83,699).
    #expect(checkpoint.checkpointSize == 83_699)
    #expect(checkpoint.pagesSize == 61_440)
    #expect(checkpoint.rootFSDiffSize == 0)
    #expect(try ContainerCheckpoint(path: Fixtures.path("busybox-ptree.tar")).rootFSDiffSize == 7 * 1024)
  }

  @Test(arguments: ["busybox-sleep.tar.gz", "busybox-sleep.tar.zst", "busybox-sleep-default-compress.tar"])
  func compressedArchivesReadTheSame(_ fixture: String) throws {
    let plain = try ContainerCheckpoint(path: Fixtures.path("busybox-sleep.tar"))
    let other = try ContainerCheckpoint(path: Fixtures.path(fixture))
    #expect(other.config == plain.config)
    // The zstd exports come from another dump of the same container (timens-0.img is 2 bytes shorter).
    #expect(abs(other.checkpointSize - plain.checkpointSize) <= 2)
    #expect(ByteCount.format(other.checkpointSize) == "81.7 KiB")
    #expect(other.annotations == plain.annotations)
  }

  @Test func unpackedDirectoryReadsLikeTheArchive() throws {
    let directory = try TemporaryDirectory()
    try SafeExtraction.extract(try ArchiveReader(path: Fixtures.path("busybox-diff-1.tar")), into: directory.path)
    let unpacked = try ContainerCheckpoint(path: directory.path)
    let archived = try ContainerCheckpoint(path: Fixtures.path("busybox-diff-1.tar"))
    #expect(unpacked.config == archived.config)
    #expect(unpacked.checkpointSize == archived.checkpointSize)
    #expect(unpacked.rootFSDiffSize == archived.rootFSDiffSize)
    #expect(unpacked.path == directory.path)
  }

  @Test(arguments: [ArchiveFilter.none, .gzip])
  func crioArchive(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("crio.tar")
    try EngineArchives.write(
      to: path, config: EngineArchives.crioConfig, spec: EngineArchives.crioSpec(), compression: compression)
    let checkpoint = try ContainerCheckpoint(path: path)
    #expect(checkpoint.engine == .crio)
    #expect(checkpoint.name == "counter")
    #expect(checkpoint.podName == "counters")
    #expect(checkpoint.namespace == "default")
    #expect(checkpoint.ipAddress == "10.85.0.9")
    // CRI-O's own annotation, verbatim as upstream shows it.
    #expect(checkpoint.created == "2024-01-27T14:45:26Z")
    #expect(checkpoint.checkpointed?.rfc822 == "28 Jan 24 00:10 +0530")
    #expect(checkpoint.image == "quay.io/adrianreber/counter:latest")
    #expect(checkpoint.shortID == "6924be1bd90c")
    #expect(checkpoint.checkpointSize == 83_699)
  }

  @Test func crioWithoutCreatedFallsBackToConfig() throws {
    // Upstream shows an empty CREATED here.
    let checkpoint = try ContainerCheckpoint(
      path: "crio", config: try ContainerConfig(json: Array(EngineArchives.crioConfig.utf8), source: "crio"),
      spec: try SpecDump(json: Array(EngineArchives.crioSpec(created: nil).utf8), source: "crio"))
    #expect(checkpoint.created == "2024-01-27T14:45:26Z")
  }

  @Test(
    arguments: [
      (nil, "the annotation is missing"), ("", "\"\" is not a JSON object"), ("{", "\"{\" is not"),
      (#""counter""#, "is not a JSON object"), (#"{"name": 5}"#, "with a string name"),
    ] as [(String?, String)])
  func crioMetadataMustBeAnObject(_ metadata: String?, _ message: String) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("crio.tar")
    try EngineArchives.write(
      to: path, config: EngineArchives.crioConfig, spec: EngineArchives.crioSpec(metadata: metadata))
    let error = try #require(throws: ContainerCheckpointError.self) { try ContainerCheckpoint(path: path) }
    #expect("\(error)".hasPrefix("\(path): failed to read io.kubernetes.cri-o.Metadata: "))
    #expect("\(error)".contains(message), "\(error)")
  }

  @Test(arguments: ["", "./"])
  func containerdArchive(_ prefix: String) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("containerd.tar")
    try EngineArchives.write(
      to: path, config: EngineArchives.containerdConfig, spec: EngineArchives.containerdSpec, prefix: prefix)
    let checkpoint = try ContainerCheckpoint(path: path)
    #expect(checkpoint.engine == .containerd)
    #expect(checkpoint.engine.displayName == "containerd")
    #expect(checkpoint.name == "web")
    #expect(checkpoint.podName == "web-0")
    #expect(checkpoint.namespace == "prod")
    #expect(checkpoint.runtime == "io.containerd.runc.v2")
    // Go's Format(time.RFC3339) of the parsed time: whole seconds, the written offset kept.
    #expect(checkpoint.created == "2024-02-09T10:11:12+01:00")
    #expect(checkpoint.checkpointed?.rfc822 == "09 Feb 24 10:20 +0100")
    #expect(checkpoint.checkpointSize == 83_699)
  }

  @Test(arguments: [nil, "", "docker", "podman"] as [String?])
  func anyOtherManagerIsContainerd(_ manager: String?) throws {
    var annotations = ["io.kubernetes.cri.container-name": "web"]
    if let manager { annotations["io.container.manager"] = manager }
    let checkpoint = try ContainerCheckpoint(
      path: "x", config: ContainerConfig(name: "fallback"), spec: SpecDump(annotations: annotations))
    #expect(checkpoint.engine == .containerd)
    #expect(checkpoint.name == "web")
    // Without the CRI annotation (an empty spec) the config's name is used rather than nothing.
    let bare = try ContainerCheckpoint(path: "x", config: ContainerConfig(name: "fallback"), spec: SpecDump())
    #expect(bare.name == "fallback")
    #expect(bare.created == "")
  }

  @Test func engineFromAnnotation() {
    #expect(Engine(containerManager: "libpod") == .podman)
    #expect(Engine(containerManager: "cri-o") == .crio)
    #expect(Engine(containerManager: "CRI-O") == .containerd)
    #expect(Engine(containerManager: nil) == .containerd)
    #expect(Engine.allCases.map(\.displayName) == ["Podman", "CRI-O", "containerd", "CRIU"])
  }

  @Test func configIgnoresUnknownFieldsAndKeepsTimesVerbatim() throws {
    let config = try ContainerConfig(
      json: Array(
        #"{"id": "abc", "lockID": 0, "spec": {"x": [1, 2]}, "createdTime": "2026-11-29T12:19:07.9Z", "restored": true}"#
          .utf8), source: "a.tar")
    #expect(config.id == "abc")
    #expect(config.createdTime == "2026-11-29T12:19:07.9Z")
    #expect(config.created?.rfc3339 == "2026-11-29T12:19:07Z")
    #expect(config.restored == true)
    #expect(config.name == nil)
    // Go's zero time means "never set".
    #expect(ContainerConfig(checkpointedTime: "0001-01-01T00:00:00Z").checkpointed == nil)
    // An unparsable time is shown as written.
    let odd = try ContainerCheckpoint(
      path: "x", config: ContainerConfig(createdTime: "yesterday"), spec: SpecDump(annotations: [:]))
    #expect(odd.created == "yesterday")
  }

  @Test(arguments: [
    // Upstream's (Go's) wording, which scripts match: `failed to unmarshal …config.dump: <reason>`.
    ("", ":config.dump: unexpected end of JSON input"), ("  \n", ":config.dump: unexpected end of JSON input"),
    ("{", ":config.dump: unexpected end of JSON input"), ("[1]", ":config.dump: expected an object"),
    ("{,}", ":config.dump: invalid character ',' looking for beginning of object key string"),
    (#"{"id" 7}"#, ":config.dump: invalid character '7' after object key"),
    (#"{"id": 7 "#, ":config.dump: unexpected end of JSON input"),
    (#"{"id": tru}"#, ":config.dump: invalid character '}' in literal true (expecting 'e')"),
    (#"{} x"#, ":config.dump: invalid character 'x' after top-level value"),
    (#"{"id": 7}"#, ":config.dump: expected a string at id"),
    (#"{"restored": "yes"}"#, ":config.dump: expected a boolean at restored"),
  ])
  func badConfigIsAClearError(_ text: String, _ message: String) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("bad.tar")
    try EngineArchives.write(to: path, config: text, spec: EngineArchives.containerdSpec)
    let error = try #require(throws: ContainerCheckpointError.self) { try ContainerCheckpoint(path: path) }
    #expect("\(error)" == "failed to unmarshal \(path)\(message)", "\(error)")
  }

  @Test(arguments: [
    ("", ":spec.dump: unexpected end of JSON input"),
    ("nope", ":spec.dump: invalid character 'o' in literal null (expecting 'u')"),
    ("{\"a\": \"\u{1}\"}", ":spec.dump: invalid character '\\x01' in string literal"),
    (#"{"a": "\q"}"#, ":spec.dump: invalid character 'q' in string escape code"),
    (#"[1 2]"#, ":spec.dump: invalid character '2' after array element"),
    (#"{"a": -x}"#, ":spec.dump: invalid character 'x' in numeric literal"),
    (#"{"annotations": {"a": 1}}"#, ":spec.dump: expected a string at annotations.a"),
    (#"{"annotations": []}"#, ":spec.dump: expected an object at annotations"),
  ])
  func badSpecIsAClearError(_ text: String, _ message: String) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("bad.tar.zst")
    try EngineArchives.write(to: path, config: EngineArchives.containerdConfig, spec: text, compression: .zstd)
    let error = try #require(throws: ContainerCheckpointError.self) { try ContainerCheckpoint(path: path) }
    #expect("\(error)" == "failed to unmarshal \(path)\(message)", "\(error)")
  }

  @Test func missingMetadataNamesTheMember() throws {
    let directory = try TemporaryDirectory()
    let noConfig = directory.file("no-config.tar")
    try EngineArchives.write(to: noConfig, config: nil, spec: EngineArchives.containerdSpec)
    #expect(throws: CheckpointError.missingMember(source: noConfig, member: "config.dump")) {
      try ContainerCheckpoint(path: noConfig)
    }
    let noSpec = directory.file("no-spec.tar.gz")
    try EngineArchives.write(to: noSpec, config: EngineArchives.containerdConfig, spec: nil, compression: .gzip)
    #expect(throws: CheckpointError.missingMember(source: noSpec, member: "spec.dump")) {
      try ContainerCheckpoint(path: noSpec)
    }
  }

  @Test func refusesWhatIsNoContainerCheckpoint() throws {
    let directory = try TemporaryDirectory()
    #expect(throws: ContainerCheckpointError.imageDirectory(Fixtures.path("raw/piggie"))) {
      try ContainerCheckpoint(path: Fixtures.path("raw/piggie"))
    }
    // A checkpoint image Podman made is read through its layer (issue #11).
    let image = try ContainerCheckpoint(path: Fixtures.path("podman-checkpoint-image.oci.tar"))
    #expect(image.engine == .podman)
    #expect(!image.id.isEmpty)
    // Metadata alone is not a checkpoint either.
    let metadataOnly = directory.file("metadata-only.tar")
    try TestArchive.write(
      [.file("config.dump", Array(EngineArchives.containerdConfig.utf8)), .file("spec.dump", Array("{}".utf8))],
      to: metadataOnly)
    #expect(throws: ContainerCheckpointError.notAContainerCheckpoint(metadataOnly)) {
      try ContainerCheckpoint(path: metadataOnly)
    }
    #expect(throws: CheckpointError.missing(directory.file("nope.tar"))) {
      try ContainerCheckpoint(path: directory.file("nope.tar"))
    }
    try TestArchive.write([], to: directory.file("empty.tar"))
    #expect(throws: CheckpointError.emptyArchive(directory.file("empty.tar"))) {
      try ContainerCheckpoint(path: directory.file("empty.tar"))
    }
  }

  @Test func corruptArchivesThrowNamingTheFile() throws {
    let directory = try TemporaryDirectory()
    let whole = try Files.read(Fixtures.path("busybox-sleep.tar"))
    let gzip = try Files.read(Fixtures.path("busybox-sleep.tar.gz"))
    let cases: [(String, [UInt8])] = [
      ("garbage.tar", pseudoRandomBytes(count: 10_000)),
      ("truncated-header.tar", Array(whole[..<700])),
      ("truncated-member.tar", Array(whole[..<(whole.count / 2)])),
      ("truncated.tar.gz", Array(gzip[..<(gzip.count / 2)])),
    ]
    for (name, bytes) in cases {
      let path = directory.file(name)
      try Files.write(bytes, to: path)
      let error = try #require(throws: (any Error).self) { try ContainerCheckpoint(path: path) }
      #expect("\(error)".contains(path), "\(name): \(error)")
    }
  }
}
