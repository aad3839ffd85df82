import CLibArchive
import Glibc
import SystemSupport

/// Writes a tar archive (pax-restricted: plain ustar unless a name needs more) through a compression filter.
public final class ArchiveWriter {
  /// The output as the user named it; every error names it.
  public let displayPath: String
  private let archive: OpaquePointer
  private var closed = false

  /// Starts an archive on `descriptor` (which must stay open until ``finish()``).
  public init(descriptor: FileDescriptor, compression: ArchiveFilter, displayPath: String? = nil) throws {
    self.displayPath = displayPath ?? descriptor.displayPath
    guard let handle = archive_write_new() else {
      throw ArchiveError.libarchive(
        archive: self.displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
    }
    archive = handle
    try check(archive_write_set_format_pax_restricted(handle))
    try check(compression.add(to: handle))
    if compression != .none {
      // A compressed stream needs no padding of its last block.
      archive_write_set_bytes_in_last_block(handle, 1)
    }
    try check(archive_write_open_fd(handle, descriptor.rawValue))
  }

  deinit {
    if !closed { archive_write_close(archive) }
    archive_write_free(archive)
  }

  /// Adds a regular file member holding `bytes`.
  public func addFile(named name: String, bytes: [UInt8], permissions: UInt32 = 0o600, modificationTime: Int64)
    throws
  {
    try writeHeader(
      ArchiveEntry(
        path: name, kind: .regular, size: Int64(bytes.count), permissions: permissions,
        modificationTime: modificationTime, uid: Int64(getuid()), gid: Int64(getgid())))
    try bytes.withUnsafeBytes { try writeData($0) }
  }

  /// Writes the header of any member kind (links carry `linkTarget`); a regular file's `size` bytes of data
  /// must follow through ``writeData(_:)``.
  public func writeHeader(_ member: ArchiveEntry) throws {
    try member.withLibArchiveEntry(archive: displayPath) { try check(archive_write_header(archive, $0)) }
  }

  /// The header block libarchive writes for a regular file `member` whose data is placed in the file by other
  /// means (then padded to 512 bytes): GNU tar format, whose base-256 sizes keep the header to one 512-byte
  /// block for any size, as long as the name fits in 100 bytes (longer names are an error).
  public static func headerBlock(for member: ArchiveEntry, displayPath: String) throws -> [UInt8] {
    final class Collector {
      var bytes: [UInt8] = []
      /// Set once the header is written: the data never follows, so the padding libarchive writes for it when
      /// the archive is freed is refused at once (freeing still releases everything).
      var sealed = false
    }
    let collector = Collector()
    let collect: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = {
      _, context, buffer, length in
      guard let context, let buffer else { return -1 }
      let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
      guard !collector.sealed else { return -1 }
      collector.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
      return length
    }
    guard let handle = archive_write_new() else {
      throw ArchiveError.libarchive(
        archive: displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
    }
    defer {
      collector.sealed = true
      archive_write_free(handle)
    }
    // Always a regular file header, whatever the member's kind, with its size.
    var regular = member
    regular.kind = .regular
    let context = Unmanaged.passUnretained(collector).toOpaque()
    let steps = [
      archive_write_set_format_gnutar(handle), archive_write_add_filter_none(handle),
      archive_write_set_bytes_per_block(handle, 0), archive_write_open2(handle, context, nil, collect, nil, nil),
      try regular.withLibArchiveEntry(archive: displayPath) { archive_write_header(handle, $0) },
    ]
    if let failed = steps.first(where: { $0 < ARCHIVE_WARN }) {
      let message = archive_error_string(handle).map { String(cString: $0) } ?? "error \(failed)"
      throw ArchiveError.libarchive(archive: displayPath, operation: "writing", code: failed, message: message)
    }
    guard collector.bytes.count == 512 else {
      throw ArchiveError.libarchive(
        archive: displayPath, operation: "writing", code: ARCHIVE_FATAL,
        message: "the header of \(member.path) takes \(collector.bytes.count) bytes, not one block")
    }
    return collector.bytes
  }

  /// Writes member data after ``writeHeader(_:)``.
  public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = archive_write_data(archive, base + done, bytes.count - done)
      if n <= 0 { try check(n < 0 ? Int32(n) : ARCHIVE_FATAL) }
      done += n
    }
  }

  /// Writes the end-of-archive marker and flushes the compressor.
  public func finish() throws {
    guard !closed else { return }
    closed = true
    try check(archive_write_close(archive))
  }

  private func check(_ rc: Int32) throws {
    guard rc < ARCHIVE_WARN else { return }
    let message = archive_error_string(archive).map { String(cString: $0) } ?? "error \(rc)"
    throw ArchiveError.libarchive(archive: displayPath, operation: "writing", code: rc, message: message)
  }
}
