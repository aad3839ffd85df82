import FoundationEssentials
import SystemSupport

/// A bare name (`localhost/ckpt:latest`): Podman's local image store, written through `podman load`, the one
/// outside tool this program runs, because the store is Podman's own format.
struct PodmanTransport: ImageTransport {
  let name: String

  /// Writes the image as an OCI archive in a private scratch directory, then has Podman load it.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage {
    let searchPath = SearchPath.fromEnvironment(default: "/usr/local/bin:/usr/bin:/bin")
    guard let podman = searchPath.firstExecutable(named: "podman") else {
      throw OCIError.podmanMissing(image: name)
    }
    let directory = try ScratchDirectory(stem: "checkpointctl-image")
    defer { directory.remove() }
    let archive = Path.join(directory.path, "image.oci.tar")
    let image = try OCIArchiveTransport(path: archive, tag: name).store(progress: progress, make: make)
    try load(podman, archive: archive)
    return image
  }

  /// Images in Podman's store are not read: `podman save` them to an `oci-archive:` first.
  func open(display: String) throws -> ImageBlobs {
    throw OCIError.invalidReference(name, reason: "not a transport")
  }

  /// `podman load -q -i ARCHIVE`, its output kept for the error when it fails.
  private func load(_ podman: String, archive: String) throws {
    let outcome: Subprocess.Outcome
    do {
      outcome = try Subprocess.run(podman, arguments: ["load", "-q", "-i", archive])
    } catch {
      throw OCIError.podmanMissing(image: name)
    }
    guard outcome.status == 0 else {
      let text = String(decoding: outcome.output.prefix(4096), as: UTF8.self)
        .split(whereSeparator: \.isNewline).map { $0.trimmedWhitespace() }.joined(separator: " ")
      throw OCIError.podmanFailed(image: name, status: outcome.status, output: text)
    }
  }
}
