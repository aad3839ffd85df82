import Archive
import Glibc
import SystemSupport

/// An image opened for reading its blobs, as its transport reads them: the document its tag names, small blobs
/// read whole and checked against their descriptors, any blob opened where it is (in place in a file, streamed
/// and hashed from a registry). A checkpoint image's only layer is found through it, and so are the blobs of an
/// index whose entries are blobs rather than manifests (containerd's checkpoint images).
public struct ImageBlobs {
  /// How the user named the image.
  public let display: String
  /// The document the tag names and its media type (the descriptor's, or what the registry said).
  public let top: (bytes: [UInt8], mediaType: String)
  /// True for a registry's image, whose blobs are fetched (and so better left alone when not needed).
  public let isRemote: Bool
  /// Reads the manifest or index a descriptor names, checked against its digest.
  let document: (Descriptor) throws -> (bytes: [UInt8], mediaType: String)
  /// Reads a small blob whole (at most ``OCILimits/document`` bytes), checked against its descriptor.
  let smallBlob: (Descriptor) throws -> [UInt8]
  /// Where a blob is, its size checked when it is in a file.
  let locate: (Descriptor) throws -> ImageLayerLocation

  /// The image `path` names: an OCI archive file or a layout directory (recognised by their content), or an
  /// `oci-archive:`, `oci:` or `docker://` reference to a path that does not exist. `nil` for anything else (a
  /// checkpoint archive or directory, or a missing file: the caller reports those as before).
  public static func open(_ path: String, registry: RegistryOptions) throws -> ImageBlobs? {
    if try Path.status(path) == nil, let reference = try ImageReference(transport: path) {
      return try reference.transport(registry: registry).open(display: path)
    }
    guard let reference = try ImageReference.held(by: path) else { return nil }
    return try reference.transport(registry: registry).open(display: path)
  }

  /// The document the tag names as an index, when it is one (by its media type, or by its content when it
  /// has none); `nil` for a manifest.
  public var topIndex: ImageIndex? {
    get throws {
      if MediaType.isIndex(top.mediaType) { return try ImageIndex(json: top.bytes, source: display) }
      guard top.mediaType.isEmpty else { return nil }
      return try? ImageIndex(json: top.bytes, source: display)
    }
  }

  /// The descriptor of the image's only layer, through an index to the manifest for this host's platform.
  func onlyLayerDescriptor() throws -> Descriptor {
    try ImageManifest.resolving(top, platform: .host, source: display, fetch: document).onlyLayer(source: display)
  }

  /// The image's only layer, opened as an archive.
  /// With `hashing`, read once in order and checked against its digest when finished.
  public func onlyLayer(hashing: Bool = false) throws -> ImageLayer {
    try ImageLayer(locate(onlyLayerDescriptor()), display: display, hashing: hashing)
  }

  /// A small blob (at most ``OCILimits/document`` bytes), read whole and checked against its descriptor.
  public func blob(_ descriptor: Descriptor) throws -> [UInt8] {
    try smallBlob(descriptor)
  }

  /// A blob opened as an archive: read in place from a file, streamed from a registry (see ``ImageLayer``).
  /// With `hashing`, read once in order and checked against its digest when finished.
  public func archive(_ descriptor: Descriptor, hashing: Bool = false) throws -> ImageLayer {
    try ImageLayer(locate(descriptor), display: display, hashing: hashing)
  }

  /// A blob for reads at any offset: in place in a file (never copied), or a registry's read whole (at most
  /// `limit` bytes) and checked against its size and digest.
  public func randomAccess(_ descriptor: Descriptor, limit: Int64) throws -> RandomAccessBytes {
    let location = try locate(descriptor)
    switch location {
    case .blob(let path, _): return try FileDescriptor(path: path, flags: O_RDONLY, displayPath: display)
    case .member(let file, let offset, _): return FileSlice(file: file, offset: offset, size: descriptor.size)
    case .registry(let stream, _):
      guard descriptor.size <= limit else {
        stream.cancel()
        throw OCIError.invalidDocument(
          source: display, reason: "blob \(descriptor.digest) of \(descriptor.size) bytes is larger than \(limit)")
      }
      let layer = try ImageLayerStream(location, display: display)
      var bytes = [UInt8](repeating: 0, count: Int(descriptor.size))
      var done = 0
      while done < bytes.count {
        let n = try bytes.withUnsafeMutableBytes {
          try layer.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[done...]), at: Int64(done))
        }
        guard n > 0 else { break }
        done += n
      }
      try layer.finish()
      return InMemoryBytes(bytes)
    }
  }
}
