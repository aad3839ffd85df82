import Archive
import Glibc
import SystemSupport

/// `oci:DIR[:TAG]`: an OCI image layout directory.
struct OCILayoutTransport: ImageTransport {
  let directory: String
  let tag: String?

  /// Writes the layer into a temporary blob renamed to its digest, the small blobs, then `index.json` under the
  /// tag; a layout this store created is removed again when it fails before tagging.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage {
    let existed = Path.exists(directory)
    let writer = try OCILayoutWriter(directory: directory)
    var tagged = false
    defer { if !tagged && !existed { removeLayout() } }
    let blob = try writer.makeTemporaryBlob()
    let image = try make(blob.descriptor)
    try blob.commit(as: writer.layout.blobPath(image.layer.digest))
    for (descriptor, bytes) in image.smallBlobs { try writer.write(bytes, mediaType: descriptor.mediaType) }
    try writer.tag(image.indexDescriptor, as: tag)
    tagged = true
    return image
  }

  /// Blobs are files of the layout, checked to have their descriptors' sizes.
  func open(display: String) throws -> ImageBlobs {
    let layout = OCILayout(directory: directory)
    let fetch = { (descriptor: Descriptor) in (bytes: try layout.blob(descriptor), mediaType: descriptor.mediaType) }
    return ImageBlobs(
      display: display, top: try fetch(OCILayout.tagged(layout.index(), tag: tag, source: directory)), isRemote: false,
      document: fetch, smallBlob: layout.blob,
      locate: { descriptor in
        let path = layout.blobPath(descriptor.digest)
        guard let size = Path.regularFileSize(path) else {
          throw OCIError.missingBlob(source: directory, digest: descriptor.digest)
        }
        guard size == descriptor.size else {
          throw OCIError.sizeMismatch(
            source: directory, digest: descriptor.digest, expected: descriptor.size, actual: size)
        }
        return .blob(path: path, descriptor)
      })
  }

  /// Removes the layout directory this store created (its blobs, then the directories).
  private func removeLayout() {
    Path.removeFlatDirectory(Path.join(directory, OCILayout.blobDirectory))
    rmdir(Path.join(directory, "blobs"))
    Path.removeFlatDirectory(directory)
  }
}
