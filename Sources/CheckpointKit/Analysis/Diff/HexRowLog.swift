import Archive
import CRIU
import Glibc
import SystemSupport

/// The rows `diff --pages --hexdump` shows: each 16-byte row of a changed run whose bytes differ, logged while
/// the pages are compared (both sides' bytes are in memory then), so the checkpoints are read once.
///
/// A row is a record of ``recordSize`` bytes: its address (little-endian), its byte count (16, fewer only at
/// the end of a run), then 16 bytes of A and 16 of B (zero-padded). Records go to a private temporary file,
/// unlinked as soon as it is created (it disappears on every exit path), and are read back a batch at a time:
/// memory stays bounded however many rows differ.
final class HexRowLog {
  /// Bytes of one record: address 8, count 1, A 16, B 16.
  static let recordSize = 41
  /// Records read back at once (about 656 KiB).
  static let batch = 1 << 14

  private let file: FileDescriptor
  /// Records logged.
  let count: Int64

  private init(file: FileDescriptor, count: Int64) {
    self.file = file
    self.count = count
  }

  /// Hands the rows `records` to `emit` in order, as `(address, bytes in A, bytes in B)`.
  func rows(_ records: Range<Int64>, _ emit: (UInt64, [UInt8], [UInt8]) throws -> Void) throws {
    guard !records.isEmpty else { return }
    precondition(records.lowerBound >= 0 && records.upperBound <= count, "rows outside the log")
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: Int(min(Int64(Self.batch), Int64(records.count))) * Self.recordSize, alignment: 8)
    defer { buffer.deallocate() }
    var next = records.lowerBound
    while next < records.upperBound {
      let read = Int(min(Int64(Self.batch), records.upperBound - next))
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<read * Self.recordSize])
      guard try file.read(into: part, at: next * Int64(Self.recordSize)) == part.count else {
        throw SystemError("cannot read", path: file.displayPath, code: EIO)
      }
      for index in 0..<read {
        let record = UnsafeRawBufferPointer(rebasing: part[index * Self.recordSize..<(index + 1) * Self.recordSize])
        let address = UInt64(littleEndian: record.loadUnaligned(as: UInt64.self))
        let length = Int(record[8])
        try emit(address, Array(record[9..<9 + length]), Array(record[25..<25 + length]))
      }
      next += Int64(read)
    }
  }
}

extension HexRowLog {
  /// Logs rows while the pages are compared, one run (a changed range) after another; ``finish()`` gives the
  /// log to read. Rows lie on the 16-byte grid of their run's start, wherever the run's pieces begin and end.
  final class Writer {
    private let file: FileDescriptor
    private let output: BackgroundWriter
    private let record = UnsafeMutableRawBufferPointer.allocate(byteCount: HexRowLog.recordSize, alignment: 8)
    /// Records logged so far.
    private(set) var count: Int64 = 0
    /// The last row of the current run while it holds fewer than 16 bytes: the run's next bytes complete it.
    private var partial: (address: UInt64, a: [UInt8], b: [UInt8])?

    /// A log in a new private temporary file in `directory`.
    init(in directory: String = ProcessEnvironment.temporaryDirectory) throws {
      file = try UnlinkedFile.make(in: directory, stem: "checkpointctl-diff-rows")
      output = BackgroundWriter(file: file, startsWriteback: false)
    }

    deinit {
      // Stops the writer thread when the comparison failed before ``finish()``.
      try? output.finish()
      record.deallocate()
    }

    /// Logs the differing rows among `a` and `b` (the same length), the bytes at `address` of each side, which
    /// continue the current run right where its last bytes ended.
    func append(address: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws {
      precondition(a.count == b.count, "both sides hold the same bytes")
      var offset = 0
      if var row = partial {
        offset = min(16 - row.a.count, a.count)
        row.a += a[0..<offset]
        row.b += b[0..<offset]
        partial = row.a.count < 16 ? row : nil
        if row.a.count == 16 && row.a != row.b { try log(row.address, row.a, row.b) }
      }
      while offset < a.count {
        let length = min(16, a.count - offset)
        let left = UnsafeRawBufferPointer(rebasing: a[offset..<offset + length])
        let right = UnsafeRawBufferPointer(rebasing: b[offset..<offset + length])
        if length < 16 {
          partial = (address + UInt64(offset), Array(left), Array(right))
        } else if left.loadUnaligned(as: UInt64.self) != right.loadUnaligned(as: UInt64.self)
          || left.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            != right.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        {
          try log(address + UInt64(offset), left, right)
        }
        offset += length
      }
    }

    /// Ends the current run: a last row of fewer than 16 bytes is logged if it differs.
    func endRun() throws {
      guard let row = partial else { return }
      partial = nil
      if row.a != row.b { try log(row.address, row.a, row.b) }
    }

    /// Ends the current run, writes what is buffered, and gives the log to read.
    func finish() throws -> HexRowLog {
      try endRun()
      try output.finish()
      return HexRowLog(file: file, count: count)
    }

    private func log(_ address: UInt64, _ a: [UInt8], _ b: [UInt8]) throws {
      try a.withUnsafeBytes { a in try b.withUnsafeBytes { b in try log(address, a, b) } }
    }

    private func log(_ address: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws {
      record.initializeMemory(as: UInt8.self, repeating: 0)
      record.storeBytes(of: address.littleEndian, as: UInt64.self)
      record[8] = UInt8(a.count)
      UnsafeMutableRawBufferPointer(rebasing: record[9..<9 + a.count]).copyMemory(from: a)
      UnsafeMutableRawBufferPointer(rebasing: record[25..<25 + b.count]).copyMemory(from: b)
      try output.write(UnsafeRawBufferPointer(record))
      count += 1
    }
  }
}
