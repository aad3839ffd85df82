import CRIU
import SystemSupport

/// `diff --pages` while both checkpoints are read, one thread each (issue #23).
///
/// Each side's ``MemoryPass`` offers the process whose pages its stream has reached. When the other side offers
/// the same process, both take their pages: A's thread compares, reading A's pages and receiving B's, which B's
/// thread reads and queues (a few chunks ahead), so both decompress at once and neither writes a temporary file.
/// When the other side has finished reading (a directory, an uncompressed archive, or a stream done), the
/// offering side compares against it directly. When the two streams are at different processes, the offer is
/// declined: that process's pages are kept as usual and compared once both checkpoints are read.
final class PagePairing: @unchecked Sendable {
  enum Side: Int {
    case a = 0
    case b = 1
    var other: Side { self == .a ? .b : .a }
  }

  /// A process's memory as one side's images describe it, and the names of its VMAs.
  private struct Offer {
    var pid: UInt32
    var memory: ProcessMemory
    var maps: MemoryMaps
  }

  private enum State {
    /// Reading members that are not a process's pages.
    case reading
    /// Waiting for the other side's answer about a process.
    case offering(Offer)
    /// Comparing (or queueing the pages of) a process.
    case comparing(Offer)
    /// The checkpoint is read: every page it did not stream can be read from it.
    case finished(CheckpointSource, streamed: Set<UInt32>)
    /// Reading the checkpoint failed.
    case failed
  }

  private let lock = ConditionLock()
  private var states: [State] = [.reading, .reading]
  /// The other side of the pair each side is in: an offer of the other stream, or memory read from a finished
  /// checkpoint (`streams` false).
  private var partners: [(offer: Offer, streams: Bool)?] = [nil, nil]
  /// B's chunks for A, by process.
  private var queues: [UInt32: ChunkQueue] = [:]
  /// Where the rows of changed pages go (`--hexdump`); written by one comparison at a time.
  let rows: HexRowLog.Writer?
  /// What was compared, by process, and which sides streamed it.
  private var compared: [UInt32: (result: Result<PageChanges, Error>, streamedBy: [Side])] = [:]

  init(rows: HexRowLog.Writer?) {
    self.rows = rows
  }

  /// Whether `side` takes the pages of `memory`'s process now: waits for the other side's answer.
  func offer(_ side: Side, memory: ProcessMemory, source: CheckpointSource) -> Bool {
    // VMAs are named from `files.img` (name-ordered archives hold it before the pages; one that comes later makes
    // the pass distrust the stream).
    guard let maps = try? MemoryMaps(source: source) else { return false }
    let offer = Offer(pid: memory.pid, memory: memory, maps: maps)
    return lock.withLock {
      guard compared[offer.pid] == nil else { return false }
      states[side.rawValue] = .offering(offer)
      lock.broadcast()
      while true {
        // The other side saw both offers first and made the pair.
        if case .comparing = states[side.rawValue] { return true }
        switch states[side.other.rawValue] {
        case .offering(let other) where other.pid == offer.pid:
          partners[side.rawValue] = (other, true)
          partners[side.other.rawValue] = (offer, true)
          states[side.rawValue] = .comparing(offer)
          states[side.other.rawValue] = .comparing(other)
          lock.broadcast()
          return true
        case .finished(let source, let streamed):
          states[side.rawValue] = .reading
          // A process the other checkpoint does not have is not compared at all.
          guard !streamed.contains(offer.pid), source.contains(CRIUImage.pagemap(pid: offer.pid)),
            let memory = try? source.memory(pid: offer.pid),
            let maps = try? MemoryMaps(source: source)
          else { return false }
          partners[side.rawValue] = (Offer(pid: offer.pid, memory: memory, maps: maps), false)
          states[side.rawValue] = .comparing(offer)
          return true
        case .offering, .failed:
          states[side.rawValue] = .reading
          lock.broadcast()
          return false
        case .reading, .comparing:
          lock.wait()
        }
      }
    }
  }

  /// Compares (side A, or a side whose partner is finished) or queues (side B) the pages of the process
  /// ``offer(_:memory:source:)`` took, `memory` reading them from the stream.
  func consume(_ side: Side, memory: ProcessMemory) {
    let pair = lock.withLock { () -> (own: Offer, partner: Offer, streams: Bool, queue: ChunkQueue?)? in
      guard case .comparing(let own) = states[side.rawValue], let (partner, streams) = partners[side.rawValue] else {
        return nil
      }
      var queue: ChunkQueue?
      if streams {
        queue = queues[own.pid] ?? ChunkQueue()
        queues[own.pid] = queue
      }
      return (own, partner, streams, queue)
    }
    guard let (own, partner, streams, queue) = pair else { return }
    let pid = own.pid
    if let queue, side == .b {
      queue.feed(PageChanges.reads(partner.memory, memory), from: memory)
    } else {
      let (a, b) = side == .a ? (memory, partner.memory) : (partner.memory, memory)
      let (mapsA, mapsB) = side == .a ? (own.maps, partner.maps) : (partner.maps, own.maps)
      let readB = queue.map { queue in
        { (address: UInt64, buffer: UnsafeMutableRawBufferPointer) in
          try queue.take(address: address, into: buffer)
        }
      }
      let result = Result { () throws -> PageChanges in
        var changes = PageChanges(pid: pid, command: "")
        defer { queue?.cancel() }
        try changes.compare(a, b, rows: rows, readB: readB) { address, kind in
          if kind == .removed { return a.vma(containing: address).map(mapsA.name(of:)) ?? "[unknown]" }
          return b.vma(containing: address).map(mapsB.name(of:)) ?? "[unknown]"
        }
        return changes
      }
      lock.withLock { compared[pid] = (result, streams ? [.a, .b] : [side]) }
    }
    lock.withLock {
      partners[side.rawValue] = nil
      if side == .a || !streams { queues[pid] = nil }
      states[side.rawValue] = .reading
      lock.broadcast()
    }
  }

  /// `side` has read its checkpoint: the other side may compare against it from now on.
  func finish(_ side: Side, source: CheckpointSource, streamed: Set<UInt32>) {
    lock.withLock {
      states[side.rawValue] = .finished(source, streamed: streamed)
      lock.broadcast()
    }
  }

  /// Reading `side`'s checkpoint failed: nobody waits for it.
  func fail(_ side: Side) {
    lock.withLock {
      states[side.rawValue] = .failed
      for queue in queues.values { queue.cancel() }
      lock.broadcast()
    }
  }

  /// The processes compared while reading, when every side that streamed one kept it (`streamed` by side: the
  /// processes each side's pass streamed and trusted); `nil` when a stream was not trusted afterwards.
  func results(streamed: [Set<UInt32>]) -> [UInt32: Result<PageChanges, Error>]? {
    lock.withLock {
      for (pid, entry) in compared where entry.streamedBy.contains(where: { !streamed[$0.rawValue].contains(pid) }) {
        return nil
      }
      return compared.mapValues(\.result)
    }
  }
}

/// B's chunks of one process on their way to A's comparison: a few read ahead, each 1 MiB at most.
final class ChunkQueue: @unchecked Sendable {
  private let lock = ConditionLock()
  private var chunks: [(address: UInt64, bytes: [UInt8], count: Int)] = []
  private var spare: [[UInt8]] = []
  private var failure: Error?
  private var cancelled = false
  private var done = false
  static let depth = 3

  /// Reads the chunks `plan` lists (as ``PageChanges/reads(_:_:_:)`` gives them) from `memory` and queues them,
  /// until the comparison takes them all or stops.
  func feed(_ plan: [(address: UInt64, count: Int)], from memory: ProcessMemory) {
    for (address, count) in plan {
      var bytes = lock.withLock { spare.popLast() } ?? [UInt8](repeating: 0, count: PageChanges.chunk)
      do {
        try bytes.withUnsafeMutableBytes {
          try memory.read(address: address, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]))
        }
      } catch {
        lock.withLock {
          failure = error
          lock.broadcast()
        }
        return
      }
      let queued = lock.withLock { () -> Bool in
        while chunks.count >= Self.depth && !cancelled { lock.wait() }
        guard !cancelled else { return false }
        chunks.append((address, bytes, count))
        lock.broadcast()
        return true
      }
      if !queued { return }
    }
  }

  /// The next chunk, which must be the bytes at `address` filling `buffer`.
  func take(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
    let chunk = try lock.withLock { () throws -> (address: UInt64, bytes: [UInt8], count: Int) in
      while chunks.isEmpty && failure == nil && !cancelled { lock.wait() }
      guard !chunks.isEmpty else { throw failure ?? MemoryError.unmapped(address: address) }
      lock.broadcast()
      return chunks.removeFirst()
    }
    precondition(chunk.address == address && chunk.count == buffer.count, "both sides plan the same reads")
    chunk.bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<chunk.count])) }
    lock.withLock { spare.append(chunk.bytes) }
  }

  /// The comparison stopped (done or failed): the feeder stops too.
  func cancel() {
    lock.withLock {
      cancelled = true
      lock.broadcast()
    }
  }
}
