import Archive
import Glibc
import SystemSupport

/// The layer of a checkpoint image, opened as the archive a checkpoint source reads: from an OCI archive file
/// (recognised by its content), an `oci-archive:`, `oci:` or `docker://` reference. A layer inside an
/// uncompressed file is read in place (members at `baseOffset` plus their offset in the layer); a registry
/// layer is streamed once, never saved whole.
public struct ImageLayer {
  /// The layer as an archive.
  public let reader: ArchiveReader
  /// The file uncompressed members are read from in place, `nil` when the layer is streamed.
  public let file: FileDescriptor?
  /// Where the layer starts in `file`.
  public let baseOffset: Int64
  /// A registry's layer, read in order: ``ImageLayerStream/finish()`` reads what the archive reader left and
  /// checks the size and digest.
  public let stream: ImageLayerStream?

  /// What `stat` would say: a regular file (the archive branch of a checkpoint source).
  public var status: stat {
    var info = stat()
    info.st_mode = S_IFREG | 0o400
    return info
  }
}

extension ImageLayer {
  /// The layer of the checkpoint image `path` names, or `nil` when `path` is no image (see
  /// ``ImageBlobs/open(_:registry:)``). With `hashing`, a layer in a file is read once, in order, through an
  /// ``ImageLayerStream`` (as a registry's always is), so that ``stream``'s ``ImageLayerStream/finish()`` checks
  /// its size and digest (`verify`).
  public static func open(_ path: String, registry: RegistryOptions, hashing: Bool = false) throws -> ImageLayer? {
    try ImageBlobs.open(path, registry: registry)?.onlyLayer(hashing: hashing)
  }

  /// The blob at `location` opened as an archive (`display` names it in errors); with `hashing`, read in order
  /// and checked as a registry's is.
  init(_ location: ImageLayerLocation, display: String, hashing: Bool = false) throws {
    switch location {
    case .blob(let path, _) where !hashing:
      let reader = try ArchiveReader(path: path, displayPath: display)
      self.init(reader: reader, file: reader.fileReadableAtOffsets, baseOffset: 0, stream: nil)
    case .member(let file, let offset, let layer) where !hashing:
      let slice = FileSlice(file: file, offset: offset, size: layer.size)
      let reader = try ArchiveReader(bytes: slice, size: layer.size, displayPath: display)
      self.init(reader: reader, file: file, baseOffset: offset, stream: nil)
    default:
      let stream = try ImageLayerStream(location, display: display)
      let reader = try ArchiveReader(bytes: stream, size: stream.descriptor.size, displayPath: display)
      self.init(reader: reader, file: nil, baseOffset: 0, stream: stream)
    }
  }
}
