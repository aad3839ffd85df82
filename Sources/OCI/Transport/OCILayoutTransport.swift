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

  /// The layer is a blob file of the layout, checked to have its descriptor's size.
  func locateLayer(display: String) throws -> ImageLayerLocation {
    let layout = OCILayout(directory: directory)
    let fetch = { (descriptor: Descriptor) in (bytes: try layout.blob(descriptor), mediaType: descriptor.mediaType) }
    let top = try OCILayout.tagged(layout.index(), tag: tag, source: directory)
    let layer = try onlyLayer(from: fetch(top), display: display, fetch: fetch)
    let path = layout.blobPath(layer.digest)
    guard let size = Path.regularFileSize(path) else {
      throw OCIError.missingBlob(source: directory, digest: layer.digest)
    }
    guard size == layer.size else {
      throw OCIError.sizeMismatch(source: directory, digest: layer.digest, expected: layer.size, actual: size)
    }
    return .blob(path: path, layer)
  }

  /// Removes the layout directory this store created (its blobs, then the directories).
  private func removeLayout() {
    Path.removeFlatDirectory(Path.join(directory, OCILayout.blobDirectory))
    rmdir(Path.join(directory, "blobs"))
    Path.removeFlatDirectory(directory)
  }
}
