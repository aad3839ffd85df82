/// Following what a tag names to the image manifest to read, the same way for every transport.
extension ImageManifest {
  /// The image manifest `document` leads to: a manifest as it is; an index (or a Docker manifest list, also
  /// recognised by its content when no media type was given) followed to its manifest for `platform` (see
  /// ``ImageIndex/manifest(for:source:)``), at most two indexes deep. `fetch` reads the document a descriptor
  /// names, checked against its digest.
  public static func resolving(
    _ document: (bytes: [UInt8], mediaType: String), platform: Platform, source: String,
    fetch: (Descriptor) throws -> (bytes: [UInt8], mediaType: String)
  ) throws -> ImageManifest {
    var current = document
    for _ in 0..<3 {
      let isIndex =
        MediaType.isIndex(current.mediaType)
        || (current.mediaType.isEmpty && (try? ImageIndex(json: current.bytes, source: source)) != nil)
      guard isIndex else { return try ImageManifest(json: current.bytes, source: source) }
      let index = try ImageIndex(json: current.bytes, source: source)
      current = try fetch(index.manifest(for: platform, source: source))
    }
    throw OCIError.invalidDocument(source: source, reason: "an index inside an index inside an index")
  }

  /// The manifest's only layer: a checkpoint image (of a container or of a kubelet store) has exactly one.
  public func onlyLayer(source: String) throws(OCIError) -> Descriptor {
    guard layers.count == 1, let layer = layers.first else {
      throw .notACheckpointImage(
        source: source, reason: "it has \(layers.count) layers (a checkpoint image has exactly one)")
    }
    return layer
  }
}
