import Archive
import SystemSupport

/// A finished image layer as OCI names it: its `diff_id`, digest, size and media type.
public struct EncodedLayer: Sendable {
  /// SHA-256 of the uncompressed tar.
  public var diffID: Digest
  /// SHA-256 of the layer as stored.
  public var digest: Digest
  /// Its size as stored.
  public var size: Int64
  /// Its media type (tar, tar+gzip, tar+zstd).
  public var mediaType: String

  /// The layer a ``TarStreamEncoder`` wrote with `compression`.
  public init(_ result: TarStreamEncoder.Result, compression: ArchiveFilter) {
    diffID = Digest(computedHex: result.tarSHA256)
    digest = Digest(computedHex: result.writtenSHA256)
    size = result.size
    mediaType = Self.mediaType(compression)
  }

  /// The layer media type for a compression.
  public static func mediaType(_ compression: ArchiveFilter) -> String {
    switch compression {
    case .gzip: return MediaType.layerGzip
    case .zstd: return MediaType.layerZstd
    default: return MediaType.layerTar
    }
  }
}
