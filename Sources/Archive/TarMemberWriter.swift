import Glibc
import SystemSupport

/// Where tar members go: an archive file (``ArchiveWriter``) or an image layer (``TarStreamEncoder``). The same
/// members written to either give the same tar headers and data, so a kubelet store extracted to a file and to an
/// image hold the same thing.
public protocol TarMemberWriter: AnyObject {
  /// Writes a member header; a regular file's `size` bytes must follow through ``writeData(_:)``.
  func writeHeader(_ member: ArchiveEntry) throws
  /// Writes member data.
  func writeData(_ bytes: UnsafeRawBufferPointer) throws
}

extension ArchiveWriter: TarMemberWriter {}

extension TarMemberWriter {
  /// Writes `member` (a regular file of `member.size` bytes) with its data read from `file`; `block` sees every
  /// block written (progress, or keeping a small member's bytes).
  public func add(_ member: ArchiveEntry, from file: FileDescriptor, block: (UnsafeRawBufferPointer) -> Void = { _ in })
    throws
  {
    try writeHeader(member)
    try file.forEachBlock(count: member.size) { bytes in
      try writeData(bytes)
      block(bytes)
    }
  }

  /// Writes a regular file member holding `bytes`.
  public func add(_ member: ArchiveEntry, bytes: [UInt8]) throws {
    try writeHeader(member)
    try bytes.withUnsafeBytes { try writeData($0) }
  }
}

extension ArchiveEntry {
  /// A regular file member named `name` with the size, permissions, time and owner `fstat` gave.
  public static func regularFile(named name: String, status info: stat) -> ArchiveEntry {
    ArchiveEntry(
      path: name, kind: .regular, size: Int64(info.st_size), permissions: UInt32(info.st_mode) & 0o7777,
      modificationTime: Int64(info.st_mtim.tv_sec), uid: Int64(info.st_uid), gid: Int64(info.st_gid))
  }
}
