import OCI

extension CheckpointSource {
  /// The layer of a checkpoint image `path` names (an OCI archive file, a layout, a transport reference), or
  /// `nil` when `path` is no image.
  static func imageLayer(_ path: String, registry: RegistryOptions, hashing: Bool = false) throws -> ImageLayer? {
    try ImageLayer.open(path, registry: registry, hashing: hashing)
  }
}
