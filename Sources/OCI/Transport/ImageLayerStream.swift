import Archive
import Glibc
import SystemSupport

/// The only layer of an image, read once and in order as the bytes an ``ArchiveReader`` reads, and checked
/// against its descriptor: a layer in a file (an OCI layout's blob, a member of an OCI archive) is hashed on the
/// way, a registry's is streamed (never saved whole) and hashed by ``RegistryBlobStream``. A skip forward reads
/// the skipped bytes (they count for the digest), and ``finish()`` reads whatever the archive reader left (the
/// end-of-archive padding, the end of a compressed stream) before checking size and digest, so nothing read from
/// a layer that is not what its digest says is ever committed.
public final class ImageLayerStream: RandomAccessBytes {
  /// The layer's descriptor (from the manifest).
  public let descriptor: Descriptor
  private let source: Source
  private let display: String
  private var hasher = DigestHasher()
  private var position: Int64 = 0

  enum Source {
    case file(RandomAccessBytes)
    case registry(RegistryBlobStream)
  }

  init(_ descriptor: Descriptor, source: Source, display: String) {
    self.descriptor = descriptor
    self.source = source
    self.display = display
  }

  deinit {
    if case .registry(let stream) = source { stream.cancel() }
  }

  /// Opens the layer of the image `reference` names (`display` is how the user named it), following an index to
  /// the manifest for this host's platform.
  public static func open(_ reference: ImageReference, display: String, registry: RegistryOptions) throws
    -> ImageLayerStream
  {
    try reading(reference.transport(registry: registry).locateLayer(display: display), display: display)
  }

  /// The layer at `location`, read in order and checked.
  static func reading(_ location: ImageLayerLocation, display: String) throws -> ImageLayerStream {
    switch location {
    case .blob(let path, let layer):
      let file = try FileDescriptor(path: path, flags: O_RDONLY, displayPath: display)
      return ImageLayerStream(layer, source: .file(file), display: display)
    case .member(let file, let offset, let layer):
      return ImageLayerStream(
        layer, source: .file(FileSlice(file: file, offset: offset, size: layer.size)), display: display)
    case .registry(let stream, let layer):
      return ImageLayerStream(layer, source: .registry(stream), display: display)
    }
  }

  public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard offset >= position else {
      throw OCIError.invalidDocument(source: display, reason: "the layer was read backwards at \(offset)")
    }
    while position < offset {
      guard
        try pull(
          into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), offset - position))]))
          > 0
      else { return 0 }
    }
    return try pull(into: buffer)
  }

  /// Reads the rest of the layer and checks its size and digest: call it before committing anything read from it.
  public func finish() throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while try pull(into: buffer) > 0 {}
    switch source {
    case .file:
      guard position == descriptor.size else {
        throw OCIError.sizeMismatch(
          source: display, digest: descriptor.digest, expected: descriptor.size, actual: position)
      }
      let actual = hasher.finalize()
      guard actual == descriptor.digest else {
        throw OCIError.digestMismatch(source: display, expected: descriptor.digest, actual: actual)
      }
    case .registry(let stream):
      // The stream checks size and digest when it reaches the end (an empty layer included).
      _ = try stream.read(into: buffer)
    }
  }

  /// The next bytes of the layer, never past its descriptor's size.
  private func pull(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let count = Int(min(Int64(buffer.count), descriptor.size - position))
    guard count > 0 else { return 0 }
    let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
    let n: Int
    switch source {
    case .file(let bytes):
      n = try bytes.read(into: part, at: position)
      hasher.update(UnsafeRawBufferPointer(rebasing: part[0..<n]))
    case .registry(let stream):
      n = try stream.read(into: part)
    }
    position += Int64(n)
    return n
  }
}
