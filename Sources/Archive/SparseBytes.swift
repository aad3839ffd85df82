import SystemSupport

/// The kept byte ranges of a member streamed from a compressed archive; reads outside them come back short.
public final class SparseBytes: RandomAccessBytes {
  /// The member's whole size.
  public let size: Int64
  private var pieces: [(offset: Int64, bytes: [UInt8])] = []
  /// The byte ranges kept, sorted.
  private let ranges: [Range<Int64>]

  /// Streams the current member of `reader`, keeping the parts of it inside `ranges`.
  public convenience init(keeping ranges: [Range<Int64>], of reader: ArchiveReader, size: Int64) throws {
    self.init(size: size, keeping: ranges)
    var offset: Int64 = 0
    try reader.forEachBlock { block in
      keep(block, at: offset)
      offset += Int64(block.count)
    }
  }

  /// Nothing kept yet of a member of `size` bytes: ``keep(_:at:)`` keeps the parts inside `ranges` of the blocks
  /// it is given as they pass by.
  public init(size: Int64, keeping ranges: [Range<Int64>]) {
    self.size = size
    self.ranges = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
  }

  /// Keeps the parts of `block` (the member's bytes at `offset`) inside the ranges; blocks come in order.
  public func keep(_ block: UnsafeRawBufferPointer, at offset: Int64) {
    let blockRange = offset..<offset + Int64(block.count)
    for range in ranges where range.overlaps(blockRange) {
      let lower = max(range.lowerBound, blockRange.lowerBound)
      let upper = min(range.upperBound, blockRange.upperBound)
      let part = Array(block[Int(lower - offset)..<Int(upper - offset)])
      if let last = pieces.last, last.offset + Int64(last.bytes.count) == lower {
        pieces[pieces.count - 1].bytes += part
      } else {
        pieces.append((lower, part))
      }
    }
  }

  /// True when `position` is in a range kept.
  public func keeps(_ position: Int64) -> Bool { ranges.contains { $0.contains(position) } }

  public func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    guard let piece = pieces.last(where: { $0.offset <= position }),
      position < piece.offset + Int64(piece.bytes.count)
    else { return 0 }
    let start = Int(position - piece.offset)
    let count = min(buffer.count, piece.bytes.count - start)
    piece.bytes.withUnsafeBytes { source in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + count]))
    }
    return count
  }
}
