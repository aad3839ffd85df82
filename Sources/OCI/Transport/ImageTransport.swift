import Archive
import Glibc
import SystemSupport

/// One way of storing and reading images (`oci-archive:`, `oci:`, `docker://`, Podman's store): a conformer per
/// transport, picked by ``ImageReference/transport(registry:)``, the one place that tells transports apart.
///
/// Each stores a one-layer image so that a failure leaves no tag and no temporary file (the layer first, the
/// tag last), and finds the only layer of an image for this host's platform, following an index to its manifest.
protocol ImageTransport {
  /// Stores the image `make` builds: `make` writes the layer into the private file it is given and returns the
  /// image; the layer is then moved, copied or uploaded, and the image tagged last.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage

  /// Where the only layer of the image is (`display` is how the user named the image).
  func locateLayer(display: String) throws -> ImageLayerLocation
}

/// Where the only layer of an image is: a blob of an OCI layout, a member of an OCI archive file, or a registry's
/// blob, opened as a stream.
enum ImageLayerLocation {
  case blob(path: String, Descriptor)
  case member(FileDescriptor, offset: Int64, Descriptor)
  case registry(RegistryBlobStream, Descriptor)
}

extension ImageReference {
  /// The transport that stores and reads this reference; registry options (credentials, TLS) are used by
  /// `docker://` only.
  func transport(registry: RegistryOptions) -> any ImageTransport {
    switch self {
    case .ociArchive(let path, let tag): return OCIArchiveTransport(path: path, tag: tag)
    case .ociLayout(let directory, let tag): return OCILayoutTransport(directory: directory, tag: tag)
    case .registry(let reference): return RegistryTransport(reference: reference, options: registry)
    case .localStorage(let name): return PodmanTransport(name: name)
    }
  }

  /// The image an existing path holds, recognised by its content: an OCI layout directory, or a regular file
  /// that is an uncompressed OCI archive (one header read; a pipe is never read ahead). `nil` for anything else:
  /// a checkpoint archive or directory, or a missing path.
  public static func held(by path: String) throws -> ImageReference? {
    guard let info = try Path.status(path) else { return nil }
    if Path.isDirectory(info) { return OCILayout.isLayout(path) ? .ociLayout(directory: path, tag: nil) : nil }
    guard Path.isRegularFile(info), try OCIArchiveFile.isOCIArchive(path) else { return nil }
    return .ociArchive(path: path, tag: nil)
  }
}

/// Stores one-layer images wherever an ``ImageReference`` says.
public enum ImageStore {
  /// Stores the image `make` builds at `destination`: `make` writes the layer into the private file it is given
  /// (beside an OCI archive, in a layout's blob directory, or in `$TMPDIR` for a registry and Podman's store)
  /// and returns the image; the layer is then moved, copied or uploaded, and the image tagged last. A failure
  /// leaves no tag and no temporary file.
  public static func store(
    to destination: ImageReference, registry: RegistryOptions, progress: ProgressSink,
    make: (FileDescriptor) throws -> SingleLayerImage
  ) throws -> SingleLayerImage {
    try destination.transport(registry: registry).store(progress: progress, make: make)
  }
}

/// The manifest's only layer, found from the top document a tag names, through an index to the manifest for this
/// host's platform; `fetch` reads the document a descriptor names, checked against its digest.
func onlyLayer(
  from top: (bytes: [UInt8], mediaType: String), display: String,
  fetch: (Descriptor) throws -> (bytes: [UInt8], mediaType: String)
) throws -> Descriptor {
  try ImageManifest.resolving(top, platform: .host, source: display, fetch: fetch).onlyLayer(source: display)
}
