import Archive
import Glibc
import SystemSupport

/// `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`: a registry speaking the OCI distribution API.
struct RegistryTransport: ImageTransport {
  let reference: RegistryReference
  let options: RegistryOptions

  /// Writes the layer into a private unlinked file in `$TMPDIR`, then pushes the image: the layer and the
  /// configuration (each skipped when the registry has it), the manifest, then the index under the tag.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage {
    let layerFile = try UnlinkedFile.make(
      in: ProcessEnvironment.temporaryDirectory, stem: AtomicFile.temporaryPrefix + "layer", displayPath: "layer")
    let image = try make(layerFile)
    let client = try RegistryClient(reference: reference, options: options)
    let size = image.layer.size
    let pushing = progress.start("Pushing", total: size)
    try client.uploadBlob(image.layer, body: .file(image.layerFile, size: size)) {
      pushing.advance(by: $0)
    }
    pushing.finish()
    try client.uploadBlob(image.configDescriptor, body: .bytes(image.config))
    try client.putManifest(
      image.manifest, mediaType: MediaType.imageManifest, reference: image.manifestDescriptor.digest.description)
    try client.putManifest(image.index, mediaType: MediaType.imageIndex, reference: reference.reference)
    return image
  }

  /// Manifests and small blobs are fetched and checked, other blobs streamed (never saved whole).
  func open(display: String) throws -> ImageBlobs {
    let client = try RegistryClient(reference: reference, options: options)
    return ImageBlobs(
      display: display, top: try client.manifest(reference.reference), isRemote: true,
      document: { try client.manifest($0.digest.description) }, smallBlob: client.blob,
      locate: { .registry(try client.openBlob($0), $0) })
  }
}
