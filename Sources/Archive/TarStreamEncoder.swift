import CLibArchive
import FoundationEssentials
import Glibc
import SystemSupport

/// Writes a tar stream in one pass (an image layer): the tar (built with libarchive, no padding after the end
/// marker) is hashed with SHA-256 (a layer's `diff_id`) and compressed (gzip without a timestamp, or zstd level
/// 3, so the same input always gives the same bytes) on a second thread; a third hashes the compressed bytes
/// (a layer's digest) and writes them to `fd`. Memory is bounded by a queue of four 1 MiB blocks.
public final class TarStreamEncoder: TarMemberWriter {
  /// What the finished stream is.
  public struct Result: Sendable {
    /// SHA-256 of the uncompressed tar, 64 lowercase hex digits.
    public var tarSHA256: String
    /// SHA-256 of the bytes written, 64 lowercase hex digits.
    public var writtenSHA256: String
    /// How many bytes were written.
    public var size: Int64
  }

  /// The output's name in messages.
  public let displayPath: String
  private let compression: ArchiveFilter
  private var tar: OpaquePointer?
  private let pipeline: CompressionPipeline
  private var diffHasher = SHA256Hasher()
  private var staging: [UInt8] = []
  private static let blockSize = 1 << 20
  private var finished = false

  /// Starts a stream compressed with `compression` (`none`, `gzip` or `zstd`) written to `fd`.
  public init(compression: ArchiveFilter, fd: Int32, displayPath: String) throws {
    self.displayPath = displayPath
    self.compression = compression
    pipeline = try CompressionPipeline(compression: compression, fd: fd, displayPath: displayPath)
    staging.reserveCapacity(Self.blockSize)
    guard let handle = archive_write_new() else {
      throw ArchiveError.libarchive(
        archive: displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
    }
    tar = handle
    try check(archive_write_set_format_pax_restricted(handle))
    try check(archive_write_add_filter_none(handle))
    try check(archive_write_set_bytes_per_block(handle, 64 << 10))
    try check(archive_write_set_bytes_in_last_block(handle, 1))
    try check(
      archive_write_open2(handle, Unmanaged.passUnretained(self).toOpaque(), nil, Self.tarWrite, nil, nil))
  }

  deinit {
    if let tar { archive_write_free(tar) }
    pipeline.abandon()
  }

  /// Writes a member header; a regular file's `size` bytes must follow through ``writeData(_:)``.
  /// Times are whole seconds; owners are the member's (`build` gives root, as `buildah add` of an archive
  /// leaves them).
  public func writeHeader(_ member: ArchiveEntry) throws {
    guard let tar else {
      throw ArchiveError.libarchive(
        archive: displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
    }
    // A layer holds directories and regular files: any other kind is written as an empty regular file.
    var header = member
    header.permissions &= 0o7777
    if header.kind != .directory && header.kind != .regular {
      header.kind = .regular
      header.size = 0
    }
    try header.withLibArchiveEntry(archive: displayPath) { try check(archive_write_header(tar, $0)) }
    try pipeline.checkError()
  }

  /// Writes member data.
  public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
    guard let tar, let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = archive_write_data(tar, base + done, bytes.count - done)
      if n <= 0 { try check(n < 0 ? Int32(n) : ARCHIVE_FATAL) }
      done += n
    }
  }

  /// Ends the tar stream, waits for the compressor and the writer, and returns the digests.
  public func finish() throws -> Result {
    guard let tar, !finished else {
      throw ArchiveError.libarchive(
        archive: displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "finished twice")
    }
    finished = true
    try check(archive_write_close(tar))
    if !staging.isEmpty { try pipeline.submit(staging) }
    staging = []
    let (digest, size) = try pipeline.finish()
    let tarSHA256 = diffHasher.finalize()
    return Result(tarSHA256: tarSHA256, writtenSHA256: compression == .none ? tarSHA256 : digest, size: size)
  }

  private func consume(_ bytes: UnsafeRawBufferPointer) throws {
    diffHasher.update(bytes)
    var offset = 0
    while offset < bytes.count {
      let count = min(Self.blockSize - staging.count, bytes.count - offset)
      staging.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
      offset += count
      if staging.count == Self.blockSize {
        try pipeline.submit(staging)
        staging.removeAll(keepingCapacity: true)
      }
    }
  }

  private static let tarWrite:
    @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = {
      _, context, buffer, length in
      guard let context, let buffer else { return -1 }
      let encoder = Unmanaged<TarStreamEncoder>.fromOpaque(context).takeUnretainedValue()
      do {
        try encoder.consume(UnsafeRawBufferPointer(start: buffer, count: length))
        return length
      } catch {
        encoder.pipeline.record(error)
        return -1
      }
    }

  private func check(_ rc: Int32) throws {
    try pipeline.checkError()
    guard rc < ARCHIVE_WARN else { return }
    let message = tar.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "error \(rc)"
    throw ArchiveError.libarchive(archive: displayPath, operation: "writing", code: rc, message: message)
  }
}

/// The compressing half of a layer: a thread that takes tar blocks from a bounded queue, compresses them with
/// libarchive's raw format (gzip without timestamp, or zstd), hashes the output and writes it to a file.
final class CompressionPipeline: @unchecked Sendable {
  private let condition = ConditionLock()
  private var queue: [[UInt8]] = []
  private var closed = false
  private var done = false
  private var storedError: Error?
  private let capacity = 4
  private let displayPath: String
  private let compression: ArchiveFilter
  private var compressor: OpaquePointer?
  /// Hashes and writes the compressed bytes on a thread of its own, so the compressing thread only compresses.
  private let sink: HashingSink
  private let writer: BackgroundWriter

  init(compression: ArchiveFilter, fd: Int32, displayPath: String) throws {
    self.displayPath = displayPath
    self.compression = compression
    let sink = HashingSink(fd: fd, displayPath: displayPath)
    self.sink = sink
    writer = BackgroundWriter { bytes in try sink.write(bytes) }
    if compression != .none {
      guard let handle = archive_write_new() else {
        throw ArchiveError.libarchive(
          archive: displayPath, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
      }
      compressor = handle
      try check(archive_write_set_format_raw(handle), handle)
      switch compression {
      case .gzip:
        try check(archive_write_add_filter_gzip(handle), handle)
        // No modification time in the gzip header: the same layer always has the same digest.
        try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), handle)
      case .zstd:
        try check(archive_write_add_filter_zstd(handle), handle)
      default:
        throw ArchiveError.unknownCompression(compression.name)
      }
      try check(archive_write_set_bytes_per_block(handle, 1 << 20), handle)
      try check(archive_write_set_bytes_in_last_block(handle, 1), handle)
      try check(
        archive_write_open2(handle, Unmanaged.passUnretained(self).toOpaque(), nil, Self.compressedWrite, nil, nil),
        handle)
      // The raw format needs one regular-file entry; only its type matters.
      try ArchiveEntry(path: "layer.tar", kind: .regular, permissions: 0).withLibArchiveEntry(
        archive: displayPath
      ) { try check(archive_write_header(handle, $0), handle) }
    }
    BackgroundThread.start { [self] in run() }
  }

  deinit {
    if let compressor { archive_write_free(compressor) }
  }

  /// Queues a block, waiting while four are queued.
  func submit(_ block: [UInt8]) throws {
    condition.lock()
    while queue.count >= capacity && storedError == nil { condition.wait() }
    if let error = storedError {
      condition.unlock()
      throw error
    }
    queue.append(block)
    condition.broadcast()
    condition.unlock()
  }

  /// Throws the compressor thread's error, if any.
  func checkError() throws {
    condition.lock()
    defer { condition.unlock() }
    if let error = storedError { throw error }
  }

  /// Records an error (the thread stops taking blocks).
  func record(_ error: Error) {
    condition.lock()
    if storedError == nil { storedError = error }
    condition.broadcast()
    condition.unlock()
  }

  /// Ends the stream and waits: the digest and size of what was written.
  func finish() throws -> (String, Int64) {
    condition.lock()
    closed = true
    condition.broadcast()
    while !done { condition.wait() }
    let error = storedError
    condition.unlock()
    if let error { throw error }
    return (sink.hasher.finalize(), sink.hasher.count)
  }

  /// Stops the thread without waiting for the output (after a failure).
  func abandon() {
    condition.lock()
    if !done {
      closed = true
      if storedError == nil { storedError = CancellationError() }
      condition.broadcast()
      while !done { condition.wait() }
    }
    condition.unlock()
  }

  private func run() {
    while true {
      condition.lock()
      while queue.isEmpty && !closed && storedError == nil { condition.wait() }
      if storedError != nil || queue.isEmpty {
        condition.unlock()
        break
      }
      let block = queue.removeFirst()
      condition.broadcast()
      condition.unlock()
      do {
        try block.withUnsafeBytes { try compress($0) }
      } catch {
        record(error)
      }
    }
    do {
      if let compressor {
        condition.lock()
        let failed = storedError != nil
        condition.unlock()
        if !failed { try check(archive_write_close(compressor), compressor) }
      }
    } catch {
      record(error)
    }
    // Every compressed byte is hashed and written (or the writer's error is known) before the pipeline is done.
    do { try writer.finish() } catch { record(error) }
    condition.lock()
    done = true
    condition.broadcast()
    condition.unlock()
  }

  private func compress(_ bytes: UnsafeRawBufferPointer) throws {
    guard let compressor else { return try output(bytes) }
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let n = archive_write_data(compressor, base + offset, bytes.count - offset)
      if n <= 0 { try check(n < 0 ? Int32(n) : ARCHIVE_FATAL, compressor) }
      offset += n
    }
  }

  private func output(_ bytes: UnsafeRawBufferPointer) throws {
    try writer.write(bytes)
  }

  private static let compressedWrite:
    @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = {
      _, context, buffer, length in
      guard let context, let buffer else { return -1 }
      let pipeline = Unmanaged<CompressionPipeline>.fromOpaque(context).takeUnretainedValue()
      do {
        try pipeline.output(UnsafeRawBufferPointer(start: buffer, count: length))
        return length
      } catch {
        pipeline.record(error)
        return -1
      }
    }

  private func check(_ rc: Int32, _ handle: OpaquePointer) throws {
    guard rc < ARCHIVE_WARN else { return }
    condition.lock()
    let error = storedError
    condition.unlock()
    if let error { throw error }
    let message = archive_error_string(handle).map { String(cString: $0) } ?? "error \(rc)"
    throw ArchiveError.libarchive(archive: displayPath, operation: "writing", code: rc, message: message)
  }
}

/// The last stage of a layer: the SHA-256 of the bytes (the layer's digest) and their writing, on the
/// ``BackgroundWriter``'s thread; ``hasher`` is read only after the writer has finished.
final class HashingSink: @unchecked Sendable {
  var hasher = SHA256Hasher()
  private let fd: Int32
  private let displayPath: String

  init(fd: Int32, displayPath: String) {
    self.fd = fd
    self.displayPath = displayPath
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws {
    hasher.update(bytes)
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = Glibc.write(fd, base + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw SystemError("cannot write", path: displayPath)
      }
      done += n
    }
  }
}
