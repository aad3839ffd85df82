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

    /// What `stat` would say: a regular file (the archive branch of ``CheckpointSource/init(path:selection:)``).
    var status: stat {
      var info = stat()
      info.st_mode = S_IFREG | 0o400
      return info
    }
  }

  /// The image layer `path` names, or `nil` when `path` is no image (a checkpoint archive or directory, or a
  /// missing file: the caller reports those as before).
  static func imageLayer(_ path: String, registry: RegistryOptions = ImageRegistryDefaults.options) throws
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
    switch reference {
    case .ociLayout(let directory, let tag):
      let layout = OCILayout(directory: directory)
      let manifest = try resolveManifest(
        OCILayout.tagged(layout.index(), tag: tag, source: directory), source: display
      ) { descriptor in try layout.blob(descriptor) }
      let layer = try onlyLayer(manifest, source: display)
      let path = layout.blobPath(layer.digest)
      guard let size = LocalFile.regularFileSize(path) else {
        throw OCIError.missingBlob(source: directory, digest: layer.digest)
      }
      guard size == layer.size else {
        throw OCIError.sizeMismatch(source: directory, digest: layer.digest, expected: layer.size, actual: size)
      }
      let reader = try ArchiveReader(path: path, displayPath: display)
      return ImageLayer(reader: reader, file: reader.fileReadableAtOffsets, baseOffset: 0)
    case .ociArchive(let path, let tag):
      let archive = try OCIArchiveFile(path: path)
      let manifest = try resolveManifest(
        OCILayout.tagged(archive.index(), tag: tag, source: path), source: display
      ) { descriptor in try archive.blob(descriptor) }
      let layer = try onlyLayer(manifest, source: display)
      let (offset, size) = try archive.location(of: layer)
      let slice = FileSlice(file: archive.file, offset: offset, size: size)
      let reader = try ArchiveReader(bytes: slice, size: size, displayPath: display)
      return ImageLayer(reader: reader, file: archive.file, baseOffset: offset)
    case .registry(let reference):
      let client = try RegistryClient(reference: reference, options: registry)
      let top = try client.manifest(reference.reference)
      var manifestBytes = top.bytes
      var mediaType = top.mediaType
      let source = "docker://" + reference.description
      if MediaType.isIndex(mediaType)
        || (mediaType.isEmpty && (try? ImageIndex(json: top.bytes, source: source)) != nil)
      {
        let index = try ImageIndex(json: top.bytes, source: source)
        let chosen = try index.manifest(
          for: Platform(architecture: OCIImageBuilder.hostArchitecture, os: "linux"), source: source)
        let next = try client.manifest(chosen.digest.description)
        manifestBytes = next.bytes
        mediaType = next.mediaType
      }
      let manifest = try ImageManifest(json: manifestBytes, source: source)
      let layer = try onlyLayer(manifest, source: display)
      let stream = try client.openBlob(layer)
      let reader = try ArchiveReader(bytes: SequentialBytes(stream), size: layer.size, displayPath: display)
      return ImageLayer(reader: reader, file: nil, baseOffset: 0)
    case .localStorage(let name):
      throw OCIError.invalidReference(name, reason: "not a transport")
    }
  }

  /// Follows an index to its manifest (one level, the host's platform).
  private static func resolveManifest(
    _ descriptor: Descriptor, source: String, blob: (Descriptor) throws -> [UInt8]
  ) throws -> ImageManifest {
    var current = descriptor
    for _ in 0..<2 {
      let bytes = try blob(current)
      if MediaType.isIndex(current.mediaType) {
        let index = try ImageIndex(json: bytes, source: source)
        current = try index.manifest(
          for: Platform(architecture: OCIImageBuilder.hostArchitecture, os: "linux"), source: source)
        continue
      }
      return try ImageManifest(json: bytes, source: source)
    }
    throw OCIError.invalidDocument(source: source, reason: "an index inside an index inside an index")
  }

  private static func onlyLayer(_ manifest: ImageManifest, source: String) throws -> Descriptor {
    guard manifest.layers.count == 1, let layer = manifest.layers.first else {
      throw OCIError.notACheckpointImage(
        source: source, reason: "it has \(manifest.layers.count) layers (a checkpoint image has exactly one)")
    }
    return layer
  }
}

/// Registry settings for reading `docker://` checkpoint references, for the whole process: a command sets them
/// from its `--tls-verify`, `--creds` and `--authfile` flags before it reads anything (TLS and the default auth
/// files until then).
public enum ImageRegistryDefaults {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var current = RegistryOptions()

  /// The options used when a command reads `docker://` references.
  public static var options: RegistryOptions {
    get { lock.withLock { current } }
    set { lock.withLock { current = newValue } }
  }
}

/// An OCI archive file: its members' offsets. An uncompressed archive is read in place (offsets from the headers
/// alone); a compressed one, or one coming through a pipe, is decompressed once into a private unlinked scratch
/// file (the spill rule of compressed checkpoints: its blobs come before `index.json` names the layer).
final class OCIArchiveFile {
  let path: String
  let file: FileDescriptor
  private var members: [String: (offset: Int64, size: Int64)] = [:]

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
      if let offset = entry.dataOffset, reader.fileReadableAtOffsets != nil {
        members[name] = (offset, entry.size)
        continue
      }
      let file = try spill ?? UnlinkedFile.make(stem: "checkpointctl-image")
      spill = file
      let writer = spillWriter ?? BackgroundWriter(file: file, startsWriteback: false)
      spillWriter = writer
      let size = try writer.append { try reader.read(into: $0) }
      members[name] = (spillOffset, size)
      spillOffset += size
    }
    try spillWriter?.finish()
    guard let file = spill ?? reader.fileReadableAtOffsets else {
      throw CheckpointError.missingMember(source: path, member: OCILayout.indexFile)
    }
    self.file = file
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

  func location(of descriptor: Descriptor) throws -> (Int64, Int64) {
    guard let member = members[OCILayout.blobName(descriptor.digest)] else {
      throw OCIError.missingBlob(source: path, digest: descriptor.digest)
    }
    guard member.size == descriptor.size else {
      throw OCIError.sizeMismatch(
        source: path, digest: descriptor.digest, expected: descriptor.size, actual: member.size)
    }
    return member
  }

  private func read(_ name: String, limit: Int64, digest: Digest? = nil) throws -> [UInt8] {
    guard let member = members[name] else {
      if let digest { throw OCIError.missingBlob(source: path, digest: digest) }
      throw CheckpointError.missingMember(source: path, member: name)
    }
    guard member.size <= limit else { throw ArchiveError.memberTooLarge(archive: path, member: name, limit: limit) }
    var bytes = [UInt8](repeating: 0, count: Int(member.size))
    let slice = FileSlice(file: file, offset: member.offset, size: member.size)
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

/// A registry stream presented as bytes at offsets, read strictly in order: libarchive asks for increasing
/// offsets, and a skip forward reads and drops the bytes (they still count for the digest check).
final class SequentialBytes: RandomAccessBytes {
  private let stream: RegistryBlobStream
  private var position: Int64 = 0

  init(_ stream: RegistryBlobStream) { self.stream = stream }

  deinit { stream.cancel() }

  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard offset >= position else {
      throw OCIError.invalidDocument(source: "registry layer", reason: "read backwards at \(offset)")
    }
    while position < offset {
      let drop = Int(min(Int64(buffer.count), offset - position))
      let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<drop]))
      guard n > 0 else { return 0 }
      position += Int64(n)
    }
    let n = try stream.read(into: buffer)
    position += Int64(n)
    return n
  }
}
