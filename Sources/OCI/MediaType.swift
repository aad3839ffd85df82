/// The OCI and Docker media types checkpoint images use.
public enum MediaType {
  /// An OCI image index (`index.json`, and the index a tag points at).
  public static let imageIndex = "application/vnd.oci.image.index.v1+json"
  /// An OCI image manifest.
  public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
  /// An OCI image configuration.
  public static let imageConfig = "application/vnd.oci.image.config.v1+json"
  /// An uncompressed layer.
  public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
  /// A gzip-compressed layer.
  public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
  /// A zstd-compressed layer.
  public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
  /// Docker's manifest list (read only).
  public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
  /// Docker's schema 2 manifest (read only).
  public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
  /// Docker's layer (read only).
  public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"

  /// True for an index or a manifest list.
  public static func isIndex(_ type: String?) -> Bool { type == imageIndex || type == dockerManifestList }
  /// True for an image manifest, OCI or Docker.
  public static func isManifest(_ type: String?) -> Bool { type == imageManifest || type == dockerManifest }
  /// True for an image layer: OCI's (uncompressed, gzip, zstd) or Docker's.
  public static func isLayer(_ type: String) -> Bool {
    [layerTar, layerGzip, layerZstd, dockerLayer].contains(type)
  }
  /// What `Accept` lists when reading manifests from a registry.
  public static let acceptedManifests = [imageIndex, imageManifest, dockerManifestList, dockerManifest]
}

/// Annotation keys the OCI image specification defines.
public enum OCIAnnotation {
  /// The tag of a manifest in an OCI layout's `index.json`.
  public static let refName = "org.opencontainers.image.ref.name"
  /// When the image was created (RFC 3339).
  public static let created = "org.opencontainers.image.created"
  /// What the image is, in a few words.
  public static let title = "org.opencontainers.image.title"
}
