import OCI

extension CheckpointSource {
  /// What `path` names when it is an image (an OCI archive file, a layout, a transport reference): a checkpoint
  /// image's only layer, or a containerd checkpoint image and its CRIU images tar; `nil` when `path` is no image.
  /// With `hashing`, the layer is read once in order and checked against its digest when it is finished.
  static func openImage(_ path: String, selection: Selection, registry: RegistryOptions, hashing: Bool = false) throws
    -> (layer: ImageLayer, containerd: ContainerdImage?)?
  {
    guard let image = try ImageBlobs.open(path, registry: registry) else { return nil }
    return try openImage(image, selection: selection, hashing: hashing)
  }

  /// What an image opened for its blobs holds: a checkpoint image's only layer, or a containerd checkpoint image.
  static func openImage(_ image: ImageBlobs, selection: Selection, hashing: Bool = false) throws
    -> (layer: ImageLayer, containerd: ContainerdImage?)
  {
    if let containerd = try ContainerdImage(image, selection: selection, hashing: hashing) {
      return (containerd.images, containerd)
    }
    return (try image.onlyLayer(hashing: hashing), nil)
  }
}
