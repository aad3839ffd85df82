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

  /// The image layer `path` names, or `nil` when `path` is no image (a checkpoint archive or directory, or a
  /// missing file: the caller reports those as before). With `hashing`, a layer in a file is read once, in
  /// order, through an ``ImageLayerStream`` (as a registry's always is), so that ``stream``'s
  /// ``ImageLayerStream/finish()`` checks its size and digest (`verify`).
  public static func open(_ path: String, registry: RegistryOptions, hashing: Bool = false) throws -> ImageLayer? {
    if try Path.status(path) == nil, let reference = try ImageReference(transport: path) {
      return try openLayer(reference, display: path, registry: registry, hashing: hashing)
    }
    guard let reference = try ImageReference.held(by: path) else { return nil }
    return try openLayer(reference, display: path, registry: registry, hashing: hashing)
  }

  private static func openLayer(
    _ reference: ImageReference, display: String, registry: RegistryOptions, hashing: Bool
  ) throws -> ImageLayer {
    let location = try reference.transport(registry: registry).locateLayer(display: display)
    switch location {
    case .blob(let path, _) where !hashing:
      let reader = try ArchiveReader(path: path, displayPath: display)
      return ImageLayer(reader: reader, file: reader.fileReadableAtOffsets, baseOffset: 0, stream: nil)
    case .member(let file, let offset, let layer) where !hashing:
      let slice = FileSlice(file: file, offset: offset, size: layer.size)
      let reader = try ArchiveReader(bytes: slice, size: layer.size, displayPath: display)
      return ImageLayer(reader: reader, file: file, baseOffset: offset, stream: nil)
    default:
      let stream = try ImageLayerStream.reading(location, display: display)
      let reader = try ArchiveReader(bytes: stream, size: stream.descriptor.size, displayPath: display)
      return ImageLayer(reader: reader, file: nil, baseOffset: 0, stream: stream)
    }
  }
}
