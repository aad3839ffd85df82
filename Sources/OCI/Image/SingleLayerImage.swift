import SystemSupport

/// An image of one layer ready to be stored (a checkpoint, a kubelet store): the layer (in a private temporary file) and the small blobs.
public struct SingleLayerImage {
  /// The layer's descriptor.
  public var layer: Descriptor
  /// The file holding the layer's bytes (unlinked or about to be renamed; read from offset 0).
  public var layerFile: FileDescriptor
  /// The configuration's bytes and descriptor.
  public var config: [UInt8]
  public var configDescriptor: Descriptor
  /// The manifest's bytes and descriptor.
  public var manifest: [UInt8]
  public var manifestDescriptor: Descriptor
  /// The index's bytes and descriptor: what a tag points at.
  public var index: [UInt8]
  public var indexDescriptor: Descriptor
  /// The annotations set on both the manifest and the index.
  public var annotations: [String: String]
  /// The platform (from the CRIU images).
  public var platform: Platform
  /// The image's creation time, seconds since the epoch (member times in archives).
  public var createdSeconds: Int64

  /// The small blobs, in the order a registry needs them (each before what refers to it).
  public var smallBlobs: [(Descriptor, [UInt8])] {
    [(configDescriptor, config), (manifestDescriptor, manifest), (indexDescriptor, index)]
  }
}

extension SingleLayerImage {
  /// The image of a finished layer: a configuration (the platform, the creation time, the layer's `diff_id`), a
  /// manifest and an index, both carrying `annotations`; the index lists the manifest with its platform.
  public init(
    layer: EncodedLayer, layerFile: FileDescriptor, annotations: [String: String], platform: Platform,
    created: String?, createdSeconds: Int64
  ) {
    let layerDescriptor = Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)
    let imageConfig = ImageConfig(
      architecture: platform.architecture, os: platform.os, created: created, diffIDs: [layer.diffID])
    let configBytes = imageConfig.json.canonicalBytes
    let configDescriptor = Descriptor(mediaType: MediaType.imageConfig, bytes: configBytes)
    let manifest = ImageManifest(config: configDescriptor, layers: [layerDescriptor], annotations: annotations)
    let manifestBytes = manifest.json.canonicalBytes
    let listed = Descriptor(mediaType: MediaType.imageManifest, bytes: manifestBytes, platform: platform)
    let indexBytes = ImageIndex(manifests: [listed], annotations: annotations).json.canonicalBytes
    self.init(
      layer: layerDescriptor, layerFile: layerFile, config: configBytes, configDescriptor: configDescriptor,
      manifest: manifestBytes, manifestDescriptor: Descriptor(mediaType: MediaType.imageManifest, bytes: manifestBytes),
      index: indexBytes, indexDescriptor: Descriptor(mediaType: MediaType.imageIndex, bytes: indexBytes),
      annotations: annotations, platform: platform, createdSeconds: createdSeconds)
  }
}
