import Archive
import Glibc
import SystemSupport

/// `oci-archive:PATH[:TAG]`: an OCI image layout in a tar file.
struct OCIArchiveTransport: ImageTransport {
  let path: String
  let tag: String?

  /// Writes the archive under a temporary name beside `path` (mode 0600), renamed when complete. The layer comes
  /// first and is written by `make` straight into the archive, after one block left for its header, which is
  /// filled in once the layer's digest and size are known; `oci-layout`, `index.json` and the small blobs
  /// follow. The layer is written once, never copied.
  func store(progress: ProgressSink, make: (FileDescriptor) throws -> SingleLayerImage) throws -> SingleLayerImage {
    let file = try AtomicFile(destination: path)
    let fd = file.descriptor.rawValue
    let block = Int64(512)
    guard lseek(fd, off_t(block), SEEK_SET) == block else { throw SystemError("cannot write", path: path) }
    let image = try make(file.descriptor)
    let time = image.createdSeconds
    let header = try ArchiveWriter.headerBlock(
      for: ArchiveEntry(
        path: OCILayout.blobName(image.layer.digest), kind: .regular, size: image.layer.size, permissions: 0o600,
        modificationTime: time),
      displayPath: path)
    let end = block + image.layer.size
    let padding = [UInt8](repeating: 0, count: Int((block - end % block) % block))
    try file.descriptor.write(header, at: 0)
    try file.descriptor.write(padding, at: end)
    guard lseek(fd, off_t(end + Int64(padding.count)), SEEK_SET) == end + Int64(padding.count) else {
      throw SystemError("cannot write", path: path)
    }
    let writer = try ArchiveWriter(descriptor: file.descriptor, compression: .none, displayPath: path)
    let index = OCILayout.retagged(nil, with: image.indexDescriptor, tag: tag)
    try writer.addFile(named: OCILayout.layoutFile, bytes: OCILayout.layoutFileContent, modificationTime: time)
    try writer.addFile(named: OCILayout.indexFile, bytes: index.json.canonicalBytes, modificationTime: time)
    for (descriptor, bytes) in image.smallBlobs.reversed() {
      try writer.addFile(named: OCILayout.blobName(descriptor.digest), bytes: bytes, modificationTime: time)
    }
    try writer.finish()
    try file.commit()
    return image
  }

  /// Blobs are members of the archive file (or of its decompressed scratch copy), read in place.
  func open(display: String) throws -> ImageBlobs {
    try ImageBlobs(archive: OCIArchiveFile(path: path), tag: tag, display: display)
  }
}

extension ImageBlobs {
  /// The image in an OCI archive already indexed (a file, or a member of another archive), its tag's document.
  public init(archive: OCIArchiveFile, tag: String? = nil, display: String) throws {
    let path = archive.path
    let fetch = { (descriptor: Descriptor) in (bytes: try archive.blob(descriptor), mediaType: descriptor.mediaType) }
    self.init(
      display: display, top: try fetch(OCILayout.tagged(archive.index(), tag: tag, source: path)), isRemote: false,
      document: fetch,
      smallBlob: archive.blob,
      locate: { descriptor in
        let (file, offset) = try archive.location(of: descriptor)
        return .member(file, offset: offset, descriptor)
      })
  }
}
