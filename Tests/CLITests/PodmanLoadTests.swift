import Foundation
import TestSupport
import Testing

/// `build CHECKPOINT NAME` puts the image into Podman's local store through `podman load` (the one outside tool
/// the product runs). Checked where podman is installed, against a private store (vfs driver, in a temporary
/// directory) so the machine's own images are never touched.
@Suite(.enabled(if: ImageTools.has("podman"), "podman is not installed"))
struct PodmanLoadTests {
  @Test func imageIsLoadedWithItsAnnotations() throws {
    let directory = try TemporaryDirectory()
    let scratch = try TemporaryDirectory()
    let configuration = """
      [storage]
      driver = "vfs"
      graphroot = "\(directory.file("graph"))"
      runroot = "\(directory.file("run"))"

      """
    try Files.write(Array(configuration.utf8), to: directory.file("storage.conf"))
    let environment = ["CONTAINERS_STORAGE_CONF": directory.file("storage.conf"), "TMPDIR": scratch.path]
    let name = "localhost/checkpointctl-test/sleep:v1"
    let built = try CLI.run(["build", Fixtures.path("busybox-sleep.tar"), name], environment: environment)
    #expect(built.status == 0, "\(built.stderr)")
    #expect(built.stdout.contains("Added annotation: io.podman.annotations.checkpoint.name=fx-sleep"))
    let images = try Tool.run(
      "env",
      [
        "CONTAINERS_STORAGE_CONF=\(directory.file("storage.conf"))", "podman", "images", "--format",
        "{{.Repository}}:{{.Tag}}",
      ])
    #expect(images.split(separator: "\n").contains("localhost/checkpointctl-test/sleep:v1"), "\(images)")
    let inspected = try Tool.run(
      "env", ["CONTAINERS_STORAGE_CONF=\(directory.file("storage.conf"))", "podman", "image", "inspect", name])
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(inspected.utf8)) as? [[String: Any]]
    ).first
    let annotations = try #require(document?["Annotations"] as? [String: String])
    #expect(annotations["io.podman.annotations.checkpoint.name"] == "fx-sleep")
    #expect(annotations["io.podman.annotations.checkpoint.runtime.name"] == "runc")
    #expect(annotations["org.criu.checkpoint.container.name"] == "fx-sleep")
    #expect(annotations["io.kubernetes.cri-o.annotations.checkpoint.name"] == "fx-sleep")
    #expect(document?["Architecture"] as? String == "amd64")
    // The private archive handed to podman is gone.
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
  }

  @Test func withoutPodmanTheErrorNamesTheOtherTransports() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.run(
      ["build", Fixtures.path("busybox-sleep.tar"), "localhost/ckpt:v1"], environment: ["PATH": directory.path])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: cannot store localhost/ckpt:v1 in the local image store: podman is not installed (write the image with oci-archive:PATH, oci:DIR or docker://HOST/REPO instead)\n"
    )
  }
}
