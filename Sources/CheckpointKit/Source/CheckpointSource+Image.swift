import CRIU
import Foundation
import Glibc
import OCI

extension CheckpointSource {
  /// The layer of a checkpoint image, opened as the archive ``CheckpointSource`` reads: from an OCI archive file
  /// (recognised by its content), an `oci-archive:`, `oci:` or `docker://` reference. A layer inside an
  /// uncompressed file is read in place (members at `baseOffset` plus their offset in the layer); a registry
  /// layer is streamed once, never saved whole.
  struct ImageLayer {
    /// The layer as an archive.
    let reader: ArchiveReader
    /// The file uncompressed members are read from in place, `nil` when the layer is streamed.
    let file: FileDescriptor?
    /// Where the layer starts in `file`.
    let baseOffset: Int64
    /// A registry's layer, read in order: ``ImageLayerStream/finish()`` reads what the archive reader left and
    /// checks the size and digest.
    let stream: ImageLayerStream?

    /// What `stat` would say: a regular file (the archive branch of ``CheckpointSource/init(path:selection:)``).
    var status: stat {
      var info = stat()
      info.st_mode = S_IFREG | 0o400
      return info
    }
  }

  /// The image layer `path` names, or `nil` when `path` is no image (a checkpoint archive or directory, or a
  /// missing file: the caller reports those as before).
  static func imageLayer(_ path: String, registry: RegistryOptions) throws
    -> ImageLayer?
  {
    if try Path.status(path) == nil, let reference = try ImageReference(transport: path) {
      return try openLayer(reference, display: path, registry: registry)
    }
    guard let info = try Path.status(path) else { return nil }
    if Path.isDirectory(info) {
      return OCILayout.isLayout(path)
        ? try openLayer(.ociLayout(directory: path, tag: nil), display: path, registry: registry) : nil
    }
    guard Path.isRegularFile(info), try isOCIArchive(path) else { return nil }
    return try openLayer(.ociArchive(path: path, tag: nil), display: path, registry: registry)
  }

  /// True when the archive's first member is `oci-layout`, `index.json` or under `blobs/` (one header read).
  static func isOCIArchive(_ path: String) throws -> Bool {
    guard let reader = try? ArchiveReader(path: path), let entry = try? reader.next(),
      let name = entry.normalizedPath
    else { return false }
    return name == OCILayout.layoutFile || name == OCILayout.indexFile || name == "blobs" || name.hasPrefix("blobs/")
  }

  private static func openLayer(_ reference: ImageReference, display: String, registry: RegistryOptions) throws
    -> ImageLayer
  {
    switch try ImageLayerLocation.locate(reference, display: display, registry: registry) {
    case .blob(let path, _):
      let reader = try ArchiveReader(path: path, displayPath: display)
      return ImageLayer(reader: reader, file: reader.fileReadableAtOffsets, baseOffset: 0, stream: nil)
    case .member(let file, let offset, let layer):
      let slice = FileSlice(file: file, offset: offset, size: layer.size)
      let reader = try ArchiveReader(bytes: slice, size: layer.size, displayPath: display)
      return ImageLayer(reader: reader, file: file, baseOffset: offset, stream: nil)
    case .registry(let blob, let layer):
      let stream = ImageLayerStream(layer, source: .registry(blob), display: display)
      let reader = try ArchiveReader(bytes: stream, size: layer.size, displayPath: display)
      return ImageLayer(reader: reader, file: nil, baseOffset: 0, stream: stream)
    }
  }
}

/// An OCI archive file: its members' offsets. An uncompressed archive is read in place (offsets from the headers
/// alone); a compressed one, or one coming through a pipe, is decompressed once into a private unlinked scratch
/// file (the spill rule of compressed checkpoints: its blobs come before `index.json` names the layer).
final class OCIArchiveFile {
  let path: String
  /// Where each member's bytes are: in the archive, or (compressed, sparse or streamed members) in the scratch
  /// file.
  private var members: [String: (file: FileDescriptor, offset: Int64, size: Int64)] = [:]

  init(path: String) throws {
    self.path = path
    let reader = try ArchiveReader(path: path)
    var spill: FileDescriptor?
    var spillWriter: BackgroundWriter?
    var spillOffset: Int64 = 0
    var count = 0
    while let entry = try reader.next() {
      count += 1
      guard count <= 100_000 else { throw OCIError.invalidDocument(source: path, reason: "too many members") }
      guard entry.kind == .regular, let name = entry.normalizedPath else { continue }
      if let offset = entry.dataOffset, let archive = reader.fileReadableAtOffsets {
        members[name] = (archive, offset, entry.size)
        continue
      }
      let file = try spill ?? UnlinkedFile.make(stem: "checkpointctl-image")
      spill = file
      let writer = spillWriter ?? BackgroundWriter(file: file, startsWriteback: false)
      spillWriter = writer
      let size = try writer.append { try reader.read(into: $0) }
      members[name] = (file, spillOffset, size)
      spillOffset += size
    }
    try spillWriter?.finish()
  }

  func index() throws -> ImageIndex {
    try ImageIndex(
      json: read(OCILayout.indexFile, limit: Int64(OCILimits.document)), source: path + ":" + OCILayout.indexFile)
  }

  func blob(_ descriptor: Descriptor) throws -> [UInt8] {
    guard descriptor.size <= Int64(OCILimits.document) else {
      throw OCIError.invalidDocument(source: path, reason: "a \(descriptor.size)-byte document is too large")
    }
    let bytes = try read(
      OCILayout.blobName(descriptor.digest), limit: Int64(OCILimits.document), digest: descriptor.digest)
    try OCILayout.verify(bytes, descriptor, source: path)
    return bytes
  }

  /// The file and offset holding a blob's bytes.
  func location(of descriptor: Descriptor) throws -> (file: FileDescriptor, offset: Int64) {
    guard let member = members[OCILayout.blobName(descriptor.digest)] else {
      throw OCIError.missingBlob(source: path, digest: descriptor.digest)
    }
    guard member.size == descriptor.size else {
      throw OCIError.sizeMismatch(
        source: path, digest: descriptor.digest, expected: descriptor.size, actual: member.size)
    }
    return (member.file, member.offset)
  }

  private func read(_ name: String, limit: Int64, digest: Digest? = nil) throws -> [UInt8] {
    guard let member = members[name] else {
      if let digest { throw OCIError.missingBlob(source: path, digest: digest) }
      throw CheckpointError.missingMember(source: path, member: name)
    }
    guard member.size <= limit else { throw ArchiveError.memberTooLarge(archive: path, member: name, limit: limit) }
    var bytes = [UInt8](repeating: 0, count: Int(member.size))
    let slice = FileSlice(file: member.file, offset: member.offset, size: member.size)
    var done = 0
    while done < bytes.count {
      let n = try bytes.withUnsafeMutableBytes { buffer in
        try slice.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: Int64(done))
      }
      guard n > 0 else { throw CheckpointError.missingMember(source: path, member: name) }
      done += n
    }
    return bytes
  }
}
