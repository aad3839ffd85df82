import CLibArchive
import Glibc
import SystemSupport

/// Streams the members of a tar archive, plain or compressed (gzip, zstd, xz, bzip2), with the compression
/// detected from the bytes, never from the file name.
///
/// Memory does not grow with the archive: data is read in blocks. For an uncompressed archive read from a file
/// (not a pipe) each entry carries its ``ArchiveEntry/dataOffset``, so a member can be read in place later
/// without another pass. A regular file is read up to the size it had when it was opened.
public final class ArchiveReader {
  /// The archive's path as the user gave it; every error names it.
  public let displayPath: String
  private let archive: OpaquePointer
  /// What libarchive reads from: an open file, or bytes read at offsets (a member of another archive).
  private let file: FileDescriptor?
  private let stream: ByteStream?
  private var entry: OpaquePointer?
  private var currentRemaining: Int64 = 0

  /// Opens the archive at `path`. `displayPath` is what messages call it (defaults to `path`).
  public init(path: String, displayPath: String? = nil) throws {
    let name = displayPath ?? path
    self.displayPath = name
    let file = try FileDescriptor(path: path, flags: O_RDONLY, displayPath: name)
    let status = try file.status()
    if Path.isDirectory(status) {
      throw SystemError("cannot read archive", path: name, code: EISDIR)
    }
    self.file = file
    archive = try Self.makeHandle(name)
    if status.st_mode & S_IFMT == S_IFREG {
      // Read at offsets: listing an uncompressed archive reads only headers (small first reads, skips by offset).
      let stream = ByteStream(bytes: file, size: Int64(status.st_size))
      self.stream = stream
      try open(stream)
    } else {
      // A pipe or device: 1 MiB blocks, large enough for streaming, small enough for bounded memory.
      stream = nil
      try check(archive_read_open_fd(archive, file.rawValue, 1 << 20), "reading")
    }
  }

  /// Reads an archive held in `bytes` (for example a member of an uncompressed archive, read in place): no copy
  /// is made, libarchive is handed blocks of up to 1 MiB and skips by moving the offset.
  public init(bytes: RandomAccessBytes, size: Int64, displayPath: String) throws {
    self.displayPath = displayPath
    file = nil
    let stream = ByteStream(bytes: bytes, size: size)
    self.stream = stream
    archive = try Self.makeHandle(displayPath)
    try open(stream)
  }

  private func open(_ stream: ByteStream) throws {
    try check(
      archive_read_open2(
        archive, Unmanaged.passUnretained(stream).toOpaque(), nil, ByteStream.read, ByteStream.skip, nil),
      "reading")
  }

  private static func makeHandle(_ name: String) throws -> OpaquePointer {
    guard let handle = archive_read_new() else {
      throw ArchiveError.libarchive(archive: name, operation: "reading", code: ARCHIVE_FATAL, message: "out of memory")
    }
    archive_read_support_filter_all(handle)
    archive_read_support_format_tar(handle)
    archive_read_support_format_empty(handle)
    return handle
  }

  deinit {
    archive_read_free(archive)
  }

  /// The open archive file when it can be read at offsets (a regular file, not a pipe): members with a
  /// ``ArchiveEntry/dataOffset`` are read from it later, from the very file that was listed.
  public var fileReadableAtOffsets: FileDescriptor? { stream == nil ? nil : file }

  /// The compression libarchive detected (valid after the first ``next()``).
  public var compression: ArchiveFilter? {
    let count = archive_filter_count(archive)
    guard count > 0 else { return nil }
    // Filter 0 is the outermost decoding step; with no compression only the "none" reader is present.
    for index in 0..<count {
      let code = archive_filter_code(archive, index)
      if code != ARCHIVE_FILTER_NONE, let filter = ArchiveFilter(libarchiveCode: code) { return filter }
    }
    return ArchiveFilter.none
  }

  /// Advances to the next member; `nil` at the end of the archive.
  public func next() throws -> ArchiveEntry? {
    var handle: OpaquePointer?
    let rc = archive_read_next_header(archive, &handle)
    if rc == ARCHIVE_EOF { return nil }
    if rc == ARCHIVE_RETRY { return try next() }
    try check(rc, "reading")
    guard let handle else {
      throw ArchiveError.libarchive(archive: displayPath, operation: "reading", code: rc, message: "missing header")
    }
    entry = handle
    let result = makeEntry(handle)
    currentRemaining = result.size
    return result
  }

  /// Reads the current member's data into `buffer`; returns 0 at the member's end.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
    if n < 0 { try check(Int32(n), "reading") }
    currentRemaining -= Int64(n)
    return n
  }

  /// Calls `body` with consecutive blocks of the current member's data.
  public func forEachBlock(bufferSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = try read(into: buffer)
      if n == 0 { return }
      try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
  }

  /// Reads the whole current member, refusing members larger than `limit` bytes.
  public func readAll(limit: Int64, member: String) throws -> [UInt8] {
    guard currentRemaining <= limit else {
      throw ArchiveError.memberTooLarge(archive: displayPath, member: member, limit: limit)
    }
    var result: [UInt8] = []
    result.reserveCapacity(Int(max(0, currentRemaining)))
    try forEachBlock(bufferSize: 64 * 1024) { block in
      guard Int64(result.count + block.count) <= limit else {
        throw ArchiveError.memberTooLarge(archive: displayPath, member: member, limit: limit)
      }
      result.append(contentsOf: block)
    }
    return result
  }

  private func makeEntry(_ handle: OpaquePointer) -> ArchiveEntry {
    let type = UInt32(archive_entry_filetype(handle)) & UInt32(Glibc.S_IFMT)
    let hardLink = archive_entry_hardlink(handle).map { String(cString: $0) }
    let symLink = archive_entry_symlink(handle).map { String(cString: $0) }
    var kind: ArchiveEntry.Kind
    switch type {
    case UInt32(Glibc.S_IFREG): kind = .regular
    case UInt32(Glibc.S_IFDIR): kind = .directory
    case UInt32(Glibc.S_IFLNK): kind = .symbolicLink
    case UInt32(Glibc.S_IFCHR): kind = .characterDevice
    case UInt32(Glibc.S_IFBLK): kind = .blockDevice
    case UInt32(Glibc.S_IFIFO): kind = .fifo
    case UInt32(Glibc.S_IFSOCK): kind = .socket
    default: kind = .unknown
    }
    if hardLink != nil { kind = .hardLink }
    let size = archive_entry_size_is_set(handle) != 0 ? archive_entry_size(handle) : 0
    var dataOffset: Int64?
    if kind == .regular, stream != nil, compression == ArchiveFilter.none, archive_entry_sparse_count(handle) == 0 {
      // With no compression, the bytes consumed so far end exactly where this member's data begins (offsets only
      // when the bytes can be read at offsets: not from a pipe).
      dataOffset = archive_filter_bytes(archive, -1)
    }
    let pathname = archive_entry_pathname(handle).map { String(cString: $0) } ?? ""
    return ArchiveEntry(
      path: pathname,
      kind: kind,
      size: size,
      permissions: UInt32(archive_entry_perm(handle)),
      modificationTime: Int64(archive_entry_mtime(handle)),
      uid: archive_entry_uid(handle),
      gid: archive_entry_gid(handle),
      linkTarget: hardLink ?? symLink,
      dataOffset: dataOffset
    )
  }

  private func check(_ rc: Int32, _ operation: String) throws {
    // ARCHIVE_WARN is a diagnostic (for example an unknown pax keyword); the entry is still valid.
    guard rc < ARCHIVE_WARN else { return }
    if let error = stream?.error { throw error }
    let message = archive_error_string(archive).map { String(cString: $0) } ?? "error \(rc)"
    throw ArchiveError.libarchive(archive: displayPath, operation: operation, code: rc, message: message)
  }
}

/// Feeds libarchive from bytes read at offsets. Reads start at 64 KiB and double up to 1 MiB while libarchive
/// keeps reading, and start small again after a skip: walking headers touches little memory, streaming data
/// gets large reads.
private final class ByteStream {
  static let smallestRead = 64 << 10
  let bytes: RandomAccessBytes
  let size: Int64
  var offset: Int64 = 0
  var nextRead = ByteStream.smallestRead
  var error: Error?
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

  init(bytes: RandomAccessBytes, size: Int64) {
    self.bytes = bytes
    self.size = size
  }

  deinit { buffer.deallocate() }

  static let read:
    @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeRawPointer?>?)
      -> Int = { _, context, output in
        guard let context, let output else { return -1 }
        let stream = Unmanaged<ByteStream>.fromOpaque(context).takeUnretainedValue()
        let count = Int(min(Int64(stream.nextRead), max(0, stream.size - stream.offset)))
        guard count > 0 else { return 0 }
        stream.nextRead = min(stream.nextRead * 2, stream.buffer.count)
        do {
          let n = try stream.bytes.read(
            into: UnsafeMutableRawBufferPointer(rebasing: stream.buffer[0..<count]), at: stream.offset)
          stream.offset += Int64(n)
          output.pointee = UnsafeRawPointer(stream.buffer.baseAddress)
          return n
        } catch {
          stream.error = error
          return -1
        }
      }

  static let skip: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int64) -> Int64 = { _, context, request in
    guard let context else { return 0 }
    let stream = Unmanaged<ByteStream>.fromOpaque(context).takeUnretainedValue()
    let skipped = max(0, min(request, stream.size - stream.offset))
    stream.offset += skipped
    stream.nextRead = smallestRead
    return skipped
  }
}
