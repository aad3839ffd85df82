import Archive
import Glibc
import SystemSupport

/// An OCI archive file: its members' offsets. An uncompressed archive is read in place (offsets from the headers
/// alone); a compressed one, or one coming through a pipe, is decompressed once into a private unlinked scratch
/// file (the spill rule of compressed checkpoints: its blobs come before `index.json` names the layer).
public final class OCIArchiveFile {
  /// The archive as named.
  public let path: String
  /// Where each member's bytes are: in the archive, or (compressed, sparse or streamed members) in the scratch
  /// file.
  private var members: [String: (file: FileDescriptor, offset: Int64, size: Int64)] = [:]

  /// Reads the archive's member list (and spills what cannot be read in place).
  public convenience init(path: String) throws {
    let reader = try ArchiveReader(path: path)
    try self.init(reader: reader, display: path, file: reader.fileReadableAtOffsets, baseOffset: 0)
  }

  /// Reads the member list of the archive `reader` reads, which starts at `baseOffset` in `file` when its members
  /// can be read there in place (an uncompressed member of another archive), else is spilled.
  public init(reader: ArchiveReader, display: String, file: FileDescriptor?, baseOffset: Int64) throws {
    self.path = display
    let spill = MemberSpill(stem: "checkpointctl-image")
    var count = 0
    while let entry = try reader.next() {
      count += 1
      guard count <= 100_000 else { throw OCIError.invalidDocument(source: path, reason: "too many members") }
      guard entry.kind == .regular, let name = entry.normalizedPath else { continue }
      if let offset = entry.dataOffset, let file {
        members[name] = (file, baseOffset + offset, entry.size)
        continue
      }
      members[name] = try spill.append(from: reader)
    }
    try spill.flush()
  }

  /// True when the archive's first member is `oci-layout`, `index.json` or under `blobs/` (one header read).
  public static func isOCIArchive(_ path: String) throws -> Bool {
    guard let reader = try? ArchiveReader(path: path), let entry = try? reader.next(),
      let name = entry.normalizedPath
    else { return false }
    return name == OCILayout.layoutFile || name == OCILayout.indexFile || name == "blobs" || name.hasPrefix("blobs/")
  }

  /// `index.json`.
  public func index() throws -> ImageIndex {
    try ImageIndex(
      json: read(OCILayout.indexFile, limit: Int64(OCILimits.document)), source: path + ":" + OCILayout.indexFile)
  }

  /// A small blob, checked against its descriptor.
  public func blob(_ descriptor: Descriptor) throws -> [UInt8] {
    guard descriptor.size <= Int64(OCILimits.document) else {
      throw OCIError.invalidDocument(source: path, reason: "a \(descriptor.size)-byte document is too large")
    }
    let bytes = try read(
      OCILayout.blobName(descriptor.digest), limit: Int64(OCILimits.document), digest: descriptor.digest)
    try OCILayout.verify(bytes, descriptor, source: path)
    return bytes
  }

  /// The file and offset holding a blob's bytes.
  public func location(of descriptor: Descriptor) throws -> (file: FileDescriptor, offset: Int64) {
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
      throw OCIError.missingMember(source: path, member: name)
    }
    guard member.size <= limit else { throw ArchiveError.memberTooLarge(archive: path, member: name, limit: limit) }
    var bytes = [UInt8](repeating: 0, count: Int(member.size))
    let slice = FileSlice(file: member.file, offset: member.offset, size: member.size)
    var done = 0
    while done < bytes.count {
      let n = try bytes.withUnsafeMutableBytes { buffer in
        try slice.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: Int64(done))
      }
      guard n > 0 else { throw OCIError.missingMember(source: path, member: name) }
      done += n
    }
    return bytes
  }
}
