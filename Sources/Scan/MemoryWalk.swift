import CRIU
import SystemSupport

/// One process's memory read once, VMA by VMA in address order: each VMA scanned with the rules as one YARA
/// scan, and the first bytes of the VMAs an indicator names kept as evidence.
struct MemoryWalk {
  /// Bytes read at a time; a block handed to libyara is this plus the overlap.
  static let chunk = 4 << 20
  /// Bytes of one block repeated at the start of the next, so that a match across a read, page or pagemap-entry
  /// boundary is found: more than libyara's longest regular-expression match (`YR_RE_SCAN_LIMIT`, 4 KiB) and
  /// than any literal string a rule set holds in practice.
  static let overlap = 64 << 10
  /// Bytes kept from the start of a VMA an indicator names.
  static let headBytes = 64

  /// The matches, each with the VMA it is in.
  var matches: [(vma: VmaEntry, match: YaraMatch)] = []
  /// The first dumped bytes of the VMAs asked for, by VMA start: where they are and what they are.
  var heads: [UInt64: (address: UInt64, bytes: [UInt8])] = [:]

  /// Reads `memory` in address order, each byte once: with `scanner`, every VMA's dumped pages (private, shared
  /// memory and memfd alike) as one scan; the first bytes of each VMA starting at an address in `heads`.
  init(_ memory: ProcessMemory, scanner: YaraScanner?, heads wanted: Set<UInt64>) throws {
    let pieces = Self.pieces(memory)
    guard scanner != nil || !wanted.isEmpty else { return }
    let blocks = OverlappingBlocks(capacity: scanner == nil ? Self.headBytes : Self.chunk)
    for (vma, ranges) in pieces {
      guard let first = ranges.first else { continue }
      guard let scanner else {
        if wanted.contains(vma.start) {
          let count = Int(min(UInt64(Self.headBytes), first.upperBound - first.lowerBound))
          heads[vma.start] = (first.lowerBound, try memory.read(address: first.lowerBound, count: count))
        }
        continue
      }
      var rangeIndex = 0
      blocks.restart(at: first.lowerBound)
      let found = try scanner.scan(fileSize: nil) { () -> (base: UInt64, bytes: UnsafeRawBufferPointer)? in
        while rangeIndex < ranges.count, blocks.position == ranges[rangeIndex].upperBound {
          rangeIndex += 1
          if rangeIndex < ranges.count { blocks.restart(at: ranges[rangeIndex].lowerBound) }
        }
        guard rangeIndex < ranges.count else { return nil }
        let isHead = rangeIndex == 0 && blocks.position == first.lowerBound && wanted.contains(vma.start)
        let block = try blocks.next(upTo: ranges[rangeIndex].upperBound - blocks.position) { buffer, address in
          try memory.read(address: address, into: buffer)
          return buffer.count
        }
        if isHead, let block {
          heads[vma.start] = (block.base, Array(block.bytes.prefix(Self.headBytes)))
        }
        return block
      }
      matches += found.map { (vma, $0) }
    }
  }

  /// Each VMA with memory, in address order, with its dumped runs of bytes (adjacent runs joined).
  static func pieces(_ memory: ProcessMemory) -> [(VmaEntry, [Range<UInt64>])] {
    let ranges = memory.ranges()
    var result: [(VmaEntry, [Range<UInt64>])] = []
    var index = 0
    for vma in memory.vmas.sorted(by: { $0.start < $1.start }) where vma.start < vma.end {
      // Ranges are in address order and do not overlap; a private range may span several VMAs.
      while index < ranges.count, ranges[index].address + ranges[index].length <= vma.start { index += 1 }
      var runs: [Range<UInt64>] = []
      var scan = index
      while scan < ranges.count, ranges[scan].address < vma.end {
        let lower = max(ranges[scan].address, vma.start)
        let upper = min(ranges[scan].address + ranges[scan].length, vma.end)
        if lower < upper {
          if let last = runs.last, last.upperBound == lower {
            runs[runs.count - 1] = last.lowerBound..<upper
          } else {
            runs.append(lower..<upper)
          }
        }
        scan += 1
      }
      if !runs.isEmpty { result.append((vma, runs)) }
    }
    return result
  }
}

/// Blocks of bytes read in order, each starting with the last ``MemoryWalk/overlap`` bytes of the one before
/// (unless restarted at another address), so that a match across two reads is in one block.
final class OverlappingBlocks {
  private let buffer: UnsafeMutableRawBufferPointer
  private let capacity: Int
  private var carried = 0
  /// The address of the next byte to read.
  private(set) var position: UInt64 = 0

  /// Reads up to `capacity` bytes at a time.
  init(capacity: Int) {
    self.capacity = capacity
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity + MemoryWalk.overlap, alignment: 16)
  }

  deinit { buffer.deallocate() }

  /// Starts a run of bytes at `address`, not joined to the bytes before.
  func restart(at address: UInt64) {
    carried = 0
    position = address
  }

  /// The next block: the bytes carried over, then up to `limit` bytes (at most the capacity) that `read` puts at
  /// the start of the buffer it is given, for the address given, returning how many; `nil` when it reads none.
  func next(
    upTo limit: UInt64, read: (UnsafeMutableRawBufferPointer, UInt64) throws -> Int
  ) throws -> (base: UInt64, bytes: UnsafeRawBufferPointer)? {
    let keep = min(carried, MemoryWalk.overlap)
    if keep > 0 {
      UnsafeMutableRawBufferPointer(rebasing: buffer[0..<keep])
        .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(carried - keep)..<carried]))
    }
    let count = Int(min(UInt64(capacity), limit))
    let n = count == 0 ? 0 : try read(UnsafeMutableRawBufferPointer(rebasing: buffer[keep..<keep + count]), position)
    guard n > 0 else { return nil }
    let base = position - UInt64(keep)
    position += UInt64(n)
    carried = keep + n
    return (base, UnsafeRawBufferPointer(rebasing: buffer[0..<carried]))
  }
}
