import Glibc
import SystemSupport
import Testing

@testable import OCI

@Suite struct DigestTests {
  @Test func digestOfKnownInputs() {
    #expect(Digest(of: []).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Digest(of: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func hashingInPiecesEqualsHashingWhole() {
    let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    var hasher = DigestHasher()
    hasher.update(Array(bytes[0..<7]))
    hasher.update(Array(bytes[7..<65_536]))
    hasher.update(Array(bytes[65_536...]))
    #expect(hasher.finalize() == Digest(of: bytes))
    #expect(hasher.count == 100_000)
  }

  @Test(arguments: [
    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    "sha256:e3b0", "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256:../../etc/passwd",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
  ])
  func malformedDigestsAreRefused(_ text: String) {
    #expect(Digest(text) == nil)
  }
}

@Suite struct DocumentTests {
  static let digest = "sha256:" + String(repeating: "ab", count: 32)

  @Test func manifestRoundTrips() throws {
    let config = Descriptor(mediaType: MediaType.imageConfig, bytes: Array("{}".utf8))
    let layer = Descriptor(mediaType: MediaType.layerGzip, bytes: [1, 2, 3])
    let manifest = ImageManifest(config: config, layers: [layer], annotations: ["k": "v", "a": ""])
    let decoded = try ImageManifest(json: manifest.json.canonicalBytes, source: "m")
    #expect(decoded == manifest)
    #expect(
      String(decoding: manifest.json.canonicalBytes, as: UTF8.self).hasSuffix(#""annotations":{"a":"","k":"v"}}"#))
  }

  @Test(arguments: [
    #"{"schemaVersion":2,"config":{"digest":"sha256:abc","size":1},"layers":[]}"#,
    #"{"schemaVersion":2,"config":{"digest":"\#(digest)","size":-1},"layers":[]}"#,
    #"{"schemaVersion":1,"config":{"digest":"\#(digest)","size":1},"layers":[]}"#,
    #"{"schemaVersion":2,"config":{"digest":"\#(digest)","size":1e30},"layers":[]}"#,
    #"{"schemaVersion":2,"layers":[]}"#, "[]", "", #"{"schemaVersion":2,"config":"#,
  ])
  func hostileManifestsAreRefused(_ text: String) {
    #expect(throws: OCIError.self) { try ImageManifest(json: Array(text.utf8), source: "m") }
  }

  @Test func oversizedDocumentIsRefusedBeforeParsing() {
    let huge = [UInt8](repeating: 0x20, count: OCILimits.document + 1)
    #expect(throws: OCIError.invalidDocument(source: "x", reason: "larger than \(OCILimits.document) bytes")) {
      try ImageIndex(json: huge, source: "x")
    }
  }

  @Test func indexPicksTheOnlyOrTheMatchingPlatform() throws {
    let amd = Descriptor(
      mediaType: MediaType.imageManifest, bytes: [1], platform: Platform(architecture: "amd64", os: "linux"))
    let arm = Descriptor(
      mediaType: MediaType.imageManifest, bytes: [2], platform: Platform(architecture: "arm64", os: "linux"))
    let index = ImageIndex(manifests: [amd, arm])
    #expect(try index.manifest(for: Platform(architecture: "arm64", os: "linux"), source: "i") == arm)
    #expect(try ImageIndex(manifests: [arm]).manifest(for: nil, source: "i") == arm)
    #expect(throws: OCIError.self) { try ImageIndex(manifests: []).manifest(for: nil, source: "i") }
  }

  @Test func retaggingReplacesOnlyTheSameTag() {
    let one = Descriptor(mediaType: MediaType.imageIndex, bytes: [1])
    let two = Descriptor(mediaType: MediaType.imageIndex, bytes: [2])
    var index = OCILayout.retagged(nil, with: one, tag: "a")
    index = OCILayout.retagged(index, with: two, tag: "b")
    index = OCILayout.retagged(index, with: two, tag: "a")
    #expect(index.manifests.map { $0.annotations[OCIAnnotation.refName] } == ["b", "a"])
    #expect(index.manifests.map(\.digest) == [two.digest, two.digest])
  }
}

@Suite struct ImageReferenceTests {
  @Test func transportsAsSkopeoSpellsThem() throws {
    #expect(try ImageReference(parsing: "oci-archive:/tmp/x.tar:v1") == .ociArchive(path: "/tmp/x.tar", tag: "v1"))
    #expect(try ImageReference(parsing: "oci-archive:x.tar") == .ociArchive(path: "x.tar", tag: nil))
    #expect(try ImageReference(parsing: "oci:dir:latest") == .ociLayout(directory: "dir", tag: "latest"))
    guard case .registry(let local) = try ImageReference(parsing: "docker://127.0.0.1:5000/team/ckpt:v2") else {
      Issue.record("not a registry reference")
      return
    }
    #expect(local.host == "127.0.0.1:5000")
    #expect(local.repository == "team/ckpt")
    #expect(local.reference == "v2")
    guard case .registry(let hub) = try ImageReference(parsing: "docker://busybox") else {
      Issue.record("not a registry reference")
      return
    }
    #expect(hub.description == "docker.io/library/busybox:latest")
    let digest = "sha256:" + String(repeating: "0", count: 64)
    guard case .registry(let pinned) = try ImageReference(parsing: "docker://localhost/a/b@" + digest) else {
      Issue.record("not a registry reference")
      return
    }
    #expect(pinned.reference == digest)
    #expect(try ImageReference(parsing: "localhost/ckpt:latest") == .localStorage(name: "localhost/ckpt:latest"))
    #expect(try ImageReference(transport: "/var/lib/x.tar") == nil)
  }

  @Test(arguments: [
    "docker://127.0.0.1:5000/UPPER/case", "docker://host:99999/repo", "docker://localhost/a/b:bad:tag",
    "docker://localhost/a/b@sha256:12", "oci-archive::tag", "oci:dir:-tag", "docker:busybox",
    "containers-storage:x", "Has Space", "docker://localhost/a//b", "docker://localhost/-a",
  ])
  func invalidReferencesAreRefused(_ text: String) {
    #expect(throws: OCIError.self) { try ImageReference(parsing: text) }
  }

  @Test func credentialsComeFromTheFirstAuthFileThatNamesTheHost() throws {
    let directory = "/tmp/oci-auth-test-\(getpid())"
    try Path.makeDirectory(directory)
    defer {
      unlink(directory + "/auth.json")
      rmdir(directory)
    }
    let encoded = "YWxpY2U6czNjcjN0"  // alice:s3cr3t
    try AtomicFile.write(
      Array(#"{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"\#(encoded)"}}}"#.utf8), to: directory + "/auth.json")
    let options = RegistryOptions(environment: ["REGISTRY_AUTH_FILE": directory + "/auth.json", "HOME": "/nonexistent"])
    #expect(try options.credentials(for: "127.0.0.1:5000").map { "\($0.user):\($0.password)" } == "alice:s3cr3t")
    #expect(try options.credentials(for: "other:5000") == nil)
    #expect(try RegistryOptions(credentials: "bob:pw").credentials(for: "x").map(\.user) == "bob")
    #expect(throws: SystemError.self) {
      try RegistryOptions(authFile: directory + "/missing.json").credentials(for: "x")
    }
  }

  @Test func bearerChallengeParameters() {
    let parameters = RegistryClient.challengeParameters(
      #" realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#)
    #expect(parameters["realm"] == "https://auth.example/token")
    #expect(parameters["service"] == "registry.example")
    #expect(parameters["scope"] == "repository:a/b:pull")
  }
}
