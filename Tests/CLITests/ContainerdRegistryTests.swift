import Foundation
import OCI
import SystemSupport
import TestSupport
import Testing

/// The same images through Debian's `docker-registry`. skopeo refuses to copy them (it reads the index's
/// entries as manifests: `invalid character '\x1a' looking for beginning of value`), so the test pushes them
/// the way containerd does: every blob, then the checkpoint index under the tag (distribution 2.8 accepts an
/// index whose entries are blobs of the repository).
@Suite(
  .serialized,
  .enabled(if: TestRegistry.available, "docker-registry or skopeo is not installed (make test installs them)"))
struct ContainerdRegistryTests {
  /// Pushes the image of the OCI archive `fixture` to `image` (`docker://HOST/REPO:TAG`).
  static func push(_ fixture: String, to image: String) throws {
    let unpacked = try TemporaryDirectory()
    _ = try Tool.run("tar", ["-xf", Fixtures.path("containerd/" + fixture), "-C", unpacked.path])
    guard case .registry(let reference)? = try ImageReference(transport: image) else {
      throw RegistryTestError("not a registry reference: \(image)")
    }
    let client = try RegistryClient(reference: reference, options: RegistryOptions(tlsVerify: false))
    let blobs = unpacked.file(OCILayout.blobDirectory)
    for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
      let bytes = try Files.read(blobs + "/" + name)
      try client.uploadBlob(Descriptor(mediaType: "", bytes: bytes), body: .bytes(bytes))
    }
    let top = try #require(try OCILayout(directory: unpacked.path).index().manifests.first)
    let index = try Files.read(blobs + "/" + top.digest.hex)
    try client.putManifest(index, mediaType: top.mediaType, reference: reference.reference)
  }

  @Test func everyCommandReadsTheImageFromTheRegistry() throws {
    let registry = try TestRegistry()
    for (number, fixture) in ContainerdImageTests.fixtures.enumerated() {
      let image = "docker://\(registry.host)/containerd/ckpt\(number):v1"
      try Self.push(fixture, to: image)
      let file = "containerd/" + fixture
      for command in [["show"], ["inspect", "--all"], ["memparse"], ["memparse", "--search", "CTRFX_NEEDLE_7f3a"]] {
        let remote = try CLI.run(command + [image, "--tls-verify=false"], in: Fixtures.root)
        let local = try CLI.run(command + [file], in: Fixtures.root)
        #expect(remote.status == 0, "\(command) \(remote.stderr)")
        #expect(remote.stdout.replacing(image, with: file) == local.stdout, "\(command) \(fixture)")
        #expect(remote.stderr.replacing(image, with: file) == local.stderr, "\(command) \(fixture)")
      }
      let cores = try TemporaryDirectory()
      let fromImage = try CLI.run(["coredump", "-o", cores.file("image"), image, "--tls-verify=false"])
      #expect(fromImage.status == 0, "\(fromImage.stderr)")
      #expect(try CLI.run(["coredump", "-o", cores.file("file"), file], in: Fixtures.root).status == 0)
      for pid in try #require(ContainerdImageTests.pids[fixture]) {
        #expect(try Files.read(cores.file("image/core.\(pid)")) == (try Files.read(cores.file("file/core.\(pid)"))))
      }
    }
  }

  /// A registry serving a CRIU images blob that is not what its digest says: the stream is checked and the
  /// command fails naming the blob.
  @Test func aTamperedBlobIsRefused() throws {
    let registry = try TestRegistry()
    let fixture = ContainerdImageTests.fixtures[0]
    let image = "docker://\(registry.host)/containerd/tampered:v1"
    try Self.push(fixture, to: image)
    let criu = "db7f0d8243329bd3c94b5175ffd70777805c48f8a0ed6e1822fa4f4cccaa1917"
    let data = registry.directory.file("storage/docker/registry/v2/blobs/sha256/db/\(criu)/data")
    var bytes = try Files.read(data)
    bytes[bytes.count - 1] ^= 1
    try Files.write(bytes, to: data)
    let result = try CLI.run(["memparse", image, "--tls-verify=false"])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
    #expect(result.stderr.contains("sha256:\(criu)"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
  }
}
