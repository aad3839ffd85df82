import CRIU
import Glibc

/// `diff --mems`: the VMAs of one process that were added, removed or changed (matched on their start address;
/// a change is one of end, permissions, file offset or what is mapped).
public struct MemoryMapChanges: Equatable, Sendable {
  public var pid: UInt32
  public var command: String
  public var added: [MemoryMapping] = []
  public var removed: [MemoryMapping] = []
  /// The VMA in A and in B.
  public var changed: [Pair] = []
  /// How many VMAs are the same in both.
  public var unchanged = 0

  /// A VMA before and after.
  public struct Pair: Equatable, Sendable {
    public var before: MemoryMapping
    public var after: MemoryMapping
  }

  /// True when nothing differs.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

  /// The processes present (and not zombies) on both sides, by pid; those that differ and those that do not.
  static func compare(_ a: [InspectedProcess], _ b: [InspectedProcess]) -> [MemoryMapChanges] {
    let before = Dictionary(a.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
    return b.sorted { $0.pid < $1.pid }.compactMap { process in
      guard let old = before[process.pid], let mapsA = old.memoryMaps, let mapsB = process.memoryMaps else {
        return nil
      }
      var result = MemoryMapChanges(pid: process.pid, command: process.process.name)
      let byStart = Dictionary(mapsA.map { ($0.start, $0) }, uniquingKeysWith: { first, _ in first })
      let startsB = Set(mapsB.map(\.start))
      for vma in mapsB {
        guard let previous = byStart[vma.start] else {
          result.added.append(vma)
          continue
        }
        if previous.end != vma.end || previous.permissions != vma.permissions || previous.offset != vma.offset
          || previous.name != vma.name
        {
          result.changed.append(Pair(before: previous, after: vma))
        } else {
          result.unchanged += 1
        }
      }
      result.removed = mapsA.filter { !startsB.contains($0.start) }
      return result
    }
  }
}

/// `diff --pages`: the memory of one process compared page by page, by content: runs of pages only in B
/// (added), only in A (removed), or in both with different bytes (changed), each within one VMA.
public struct PageChanges: Equatable, Sendable {
  public var pid: UInt32
  public var command: String
  public var ranges: [Range] = []
  /// Bytes compared and found equal.
  public var unchangedBytes: UInt64 = 0

  /// What happened to a run of pages.
  public enum Kind: String, Sendable {
    case added, removed, changed
  }

  /// A run of pages `[start, end)` of one kind inside one VMA.
  public struct Range: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var kind: Kind
    /// The VMA it lies in (B's, or A's for removed pages), as `--mems` names it; `[unknown]` without one.
    public var vma: String
    /// With `--hexdump`, its differing rows: records of the diff's ``HexRowLog`` (empty unless changed).
    var rows: Swift.Range<Int64> = 0..<0
    /// Bytes in the run.
    public var bytes: UInt64 { end - start }
  }

  /// Bytes added, removed and changed.
  public func total(_ kind: Kind) -> UInt64 { ranges.filter { $0.kind == kind }.reduce(0) { $0 + $1.bytes } }

  /// Largest piece read from each side at once.
  static let chunk = 1 << 20

  /// Every process alive or stopped on both sides, by pid; with `rows`, the differing rows of changed runs
  /// are logged there.
  /// `compared` holds the processes compared while the checkpoints were read (``PagePairing``).
  static func compare(
    _ a: DiffInput, _ b: DiffInput, processes: CheckpointDiff.ProcessChanges, rows: HexRowLog.Writer?,
    compared: [UInt32: Result<PageChanges, Error>] = [:]
  ) throws -> [PageChanges] {
    var result: [PageChanges] = []
    let mapsA = try MemoryMaps(source: a.source)
    let mapsB = try MemoryMaps(source: b.source)
    for process in (processes.modified + processes.unchanged).sorted(by: { $0.pid < $1.pid })
    where process.threads > 0 {
      if let done = compared[process.pid] {
        var changes = try done.get()
        changes.command = process.command
        result.append(changes)
        continue
      }
      let memoryA = try a.source.memory(pid: process.pid)
      let memoryB = try b.source.memory(pid: process.pid)
      var changes = PageChanges(pid: process.pid, command: process.command)
      try changes.compare(memoryA, memoryB, rows: rows) { address, kind in
        if kind == .removed { return memoryA.vma(containing: address).map(mapsA.name(of:)) ?? "[unknown]" }
        return memoryB.vma(containing: address).map(mapsB.name(of:)) ?? "[unknown]"
      }
      result.append(changes)
    }
    return result
  }

  /// The stretches `compare` walks, in address order, split at every range and VMA border of either side, each
  /// saying which sides have pages there.
  static func pieces(_ a: ProcessMemory, _ b: ProcessMemory) -> [(start: UInt64, end: UInt64, inA: Bool, inB: Bool)] {
    let spansA = a.ranges().map { ($0.address, $0.address &+ $0.length) }
    let spansB = b.ranges().map { ($0.address, $0.address &+ $0.length) }
    var cuts = Set<UInt64>()
    for (start, end) in spansA + spansB where start < end {
      cuts.insert(start)
      cuts.insert(end)
    }
    // VMA borders split runs too, so every run lies in one VMA.
    for vma in a.vmas + b.vmas where vma.start < vma.end {
      cuts.insert(vma.start)
      cuts.insert(vma.end)
    }
    let points = cuts.sorted()
    var indexA = 0
    var indexB = 0
    var result: [(start: UInt64, end: UInt64, inA: Bool, inB: Bool)] = []
    for index in points.indices.dropLast() {
      let start = points[index]
      while indexA < spansA.count && spansA[indexA].1 <= start { indexA += 1 }
      while indexB < spansB.count && spansB[indexB].1 <= start { indexB += 1 }
      let inA = indexA < spansA.count && spansA[indexA].0 <= start
      let inB = indexB < spansB.count && spansB[indexB].0 <= start
      if inA || inB { result.append((start, points[index + 1], inA, inB)) }
    }
    return result
  }

  /// The reads of B's memory `compare` makes, in order: `(address, count)` chunks of the stretches both sides
  /// have pages in.
  static func reads(_ a: ProcessMemory, _ b: ProcessMemory) -> [(address: UInt64, count: Int)] {
    var result: [(address: UInt64, count: Int)] = []
    for piece in pieces(a, b) where piece.inA && piece.inB {
      var address = piece.start
      while address < piece.end {
        let count = Int(min(UInt64(chunk), piece.end - address))
        result.append((address, count))
        address += UInt64(count)
      }
    }
    return result
  }

  /// Walks both memories in address order. Pages in only one side are added or removed; pages in both are
  /// read in chunks (B's through `readB` when given, in the order ``reads(_:_:_:)`` lists) and compared page by
  /// page, and the rows of those that differ go to `log`, if any.
  mutating func compare(
    _ a: ProcessMemory, _ b: ProcessMemory, rows log: HexRowLog.Writer?,
    readB: ((UInt64, UnsafeMutableRawBufferPointer) throws -> Void)? = nil, vmaName: (UInt64, Kind) -> String
  ) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * Self.chunk, alignment: 16)
    defer { buffer.deallocate() }
    let left = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Self.chunk])
    let right = UnsafeMutableRawBufferPointer(rebasing: buffer[Self.chunk..<2 * Self.chunk])
    guard let baseLeft = left.baseAddress, let baseRight = right.baseAddress else { return }
    for (start, end, inA, inB) in Self.pieces(a, b) {
      switch (inA, inB) {
      case (false, false): continue
      case (false, true): try add(start, end, .added, vmaName(start, .added), rows: log)
      case (true, false): try add(start, end, .removed, vmaName(start, .removed), rows: log)
      case (true, true):
        let name = vmaName(start, .changed)
        var address = start
        while address < end {
          let count = Int(min(UInt64(Self.chunk), end - address))
          try a.read(address: address, into: UnsafeMutableRawBufferPointer(rebasing: left[0..<count]))
          let part = UnsafeMutableRawBufferPointer(rebasing: right[0..<count])
          if let readB { try readB(address, part) } else { try b.read(address: address, into: part) }
          var offset = 0
          while offset < count {
            let length = min(4096, count - offset)
            if memcmp(baseLeft + offset, baseRight + offset, length) != 0 {
              let page = address + UInt64(offset)
              try add(page, page + UInt64(length), .changed, name, rows: log)
              if let log {
                try log.append(
                  address: page, UnsafeRawBufferPointer(start: baseLeft + offset, count: length),
                  UnsafeRawBufferPointer(start: baseRight + offset, count: length))
                ranges[ranges.count - 1].rows = ranges[ranges.count - 1].rows.lowerBound..<log.count
              }
            } else {
              unchangedBytes += UInt64(length)
            }
            offset += length
          }
          address += UInt64(count)
        }
      }
    }
    try endRows(log)
  }

  /// Appends a run, merging it into the previous one when they touch and agree; a new run ends the previous
  /// one's rows in `log`.
  mutating func add(_ start: UInt64, _ end: UInt64, _ kind: Kind, _ vma: String, rows log: HexRowLog.Writer?) throws {
    if let last = ranges.last, last.end == start, last.kind == kind, last.vma == vma {
      ranges[ranges.count - 1].end = end
    } else {
      try endRows(log)
      let next = log?.count ?? 0
      ranges.append(Range(start: start, end: end, kind: kind, vma: vma, rows: next..<next))
    }
  }

  /// Ends the last run's rows in `log` (its last row may be shorter than 16 bytes).
  private mutating func endRows(_ log: HexRowLog.Writer?) throws {
    guard let log, let last = ranges.last else { return }
    try log.endRun()
    ranges[ranges.count - 1].rows = last.rows.lowerBound..<log.count
  }
}

extension CheckpointDiff {
  /// The 16-byte rows of a changed run whose bytes differ, as `(address, bytes in A, bytes in B)`, in address
  /// order: read from the rows logged while the pages were compared (with ``Options/hexdump``), never from the
  /// checkpoints, and handed to `emit` a batch at a time (memory stays bounded).
  public func hexRows(of range: PageChanges.Range, _ emit: (UInt64, [UInt8], [UInt8]) throws -> Void) throws {
    guard range.kind == .changed, let rowLog else { return }
    try rowLog.rows(range.rows, emit)
  }
}
