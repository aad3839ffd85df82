import Archive
import Glibc
import SystemSupport

/// One way of storing and reading images (`oci-archive:`, `oci:`, `docker://`, Podman's store): a conformer per
/// transport, picked by ``ImageReference/transport(registry:)``, the one place that tells transports apart.
///
/// Each stores a one-layer image so that a failure leaves no tag and no temporary file (the layer first, the
/// tag last), and opens an image for reading its blobs (``ImageBlobs``: the only layer for this host's platform,
/// or any blob an index lists).
protocol ImageTransport {
  /// Stores the image `make` builds: `make` writes the layer into the private file it is given and returns the
  /// image; the layer is then moved, copied or uploaded, and the image tagged last.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage

  /// The image's blobs, from the document its tag names (`display` is how the user named the image).
  func open(display: String) throws -> ImageBlobs
}

/// Where a blob of an image is: a blob file of an OCI layout, a member of an OCI archive file, or a registry's
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
