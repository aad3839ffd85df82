import Dispatch
import Glibc

/// Writes a file on a second thread, so producing the bytes (decompressing, formatting) and writing them
/// overlap. Memory is bounded by a ring of four 1 MiB buffers. Unless told otherwise, the writer starts the
/// kernel's write-back every 8 MiB, so the closing `fsync` finds the data already on its way to the device.
public final class BackgroundWriter: @unchecked Sendable {
  static let bufferCount = 4
  static let bufferSize = 1 << 20

  /// What the writer thread does with each filled buffer, in order.
  private let consume: (UnsafeRawBufferPointer) throws -> Void
  private let buffers: [UnsafeMutableRawBufferPointer]
  /// Bytes in each buffer, written by the producer and read by the writer thread (ordered by the semaphores;
  /// raw memory, so no copy-on-write array is shared between the threads).
  private let counts: UnsafeMutableBufferPointer<Int>
  private let empty = DispatchSemaphore(value: 0)
  private let full = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)
  private var produced = 0
  private var current: UnsafeMutableRawBufferPointer?
  private var filled = 0
  private var isFinished = false
  private let lock = ConditionLock()
  private var storedError: Error?

  /// Starts the writer thread for `file`, which is written from its current position. `startsWriteback: false`
  /// leaves the data in the page cache (a temporary file that will be read back, never synced).
  public convenience init(file: FileDescriptor, startsWriteback: Bool = true) {
    var writeback = startsWriteback ? WritebackPacer(ranged: true) : nil
    self.init { bytes in
      try file.write(bytes)
      writeback?.wrote(bytes.count, to: file)
    }
  }

  /// Starts the writer thread, which hands each filled buffer to `consume` in order (for example to write its
  /// bytes at offsets of its own choosing). The first error `consume` throws is reported to the producer; later
  /// buffers are dropped.
  public init(consume: @escaping (UnsafeRawBufferPointer) throws -> Void) {
    self.consume = consume
    buffers = (0..<Self.bufferCount).map { _ in
      UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
    }
    counts = UnsafeMutableBufferPointer.allocate(capacity: Self.bufferCount)
    counts.initialize(repeating: 0)
    // Created at zero and signalled up: libdispatch traps when a semaphore is released below its initial value.
    for _ in 0..<Self.bufferCount { empty.signal() }
    BackgroundThread.start { [self] in drain() }
  }

  deinit {
    if !isFinished { try? finish() }
    buffers.forEach { $0.deallocate() }
    counts.deallocate()
  }

  /// The error the writer thread met, if any.
  var writeError: Error? {
    lock.lock()
    defer { lock.unlock() }
    return storedError
  }

  /// A free buffer to fill; hand it over with ``submit(_:)``.
  public func acquire() -> UnsafeMutableRawBufferPointer {
    empty.wait()
    return buffers[produced % buffers.count]
  }

  /// Hands the first `count` bytes of the acquired buffer to the writer.
  public func submit(_ count: Int) throws {
    counts[produced % buffers.count] = count
    produced += 1
    full.signal()
    if let error = writeError { throw error }
  }

  /// Copies `bytes` into the ring, submitting buffers as they fill.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let buffer = current ?? acquire()
      current = buffer
      let count = min(buffer.count - filled, bytes.count - offset)
      UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + count])
        .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
      filled += count
      offset += count
      if filled == buffer.count {
        current = nil
        filled = 0
        try submit(buffer.count)
      }
    }
  }

  /// Writes what is left, waits for the thread, and reports its error.
  public func finish() throws {
    guard !isFinished else { return }
    isFinished = true
    // Send a partly filled buffer, then take a slot for the end marker (never reusing one still in flight).
    if current != nil && filled > 0 {
      counts[produced % buffers.count] = filled
      produced += 1
      full.signal()
      _ = acquire()
    } else if current == nil {
      _ = acquire()
    }
    current = nil
    filled = 0
    // An empty buffer ends the stream.
    counts[produced % buffers.count] = 0
    produced += 1
    full.signal()
    finished.wait()
    if let error = writeError { throw error }
  }

  private func drain() {
    var consumed = 0
    while true {
      full.wait()
      let index = consumed % buffers.count
      consumed += 1
      let count = counts[index]
      if count == 0 { break }
      if writeError == nil {
        do {
          try consume(UnsafeRawBufferPointer(rebasing: buffers[index][0..<count]))
        } catch {
          lock.lock()
          storedError = error
          lock.unlock()
        }
      }
      empty.signal()
    }
    finished.signal()
  }
}

/// Copies a stream into a file with the producer and the writer on two threads (see ``BackgroundWriter``).
public enum PipelinedCopy {
  /// Fills buffers with `produce` (which returns 0 at the end) and writes them to `file` on a second thread;
  /// returns the number of bytes copied. The file is not synced: the caller decides when.
  public static func copy(
    into file: FileDescriptor, startsWriteback: Bool = true, produce: (UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> Int64 {
    let writer = BackgroundWriter(file: file, startsWriteback: startsWriteback)
    let total: Int64
    do {
      total = try writer.append(produce: produce)
    } catch {
      try? writer.finish()
      throw error
    }
    try writer.finish()
    return total
  }
}

extension BackgroundWriter {
  /// Gives back an acquired buffer unused.
  func release() {
    empty.signal()
  }

  /// Fills buffers with `produce` (which returns 0 at the end) and hands them to the writer; returns the
  /// number of bytes. The writer stays open for more: several streams can follow each other in one file.
  public func append(produce: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Int64 {
    var total: Int64 = 0
    while true {
      let buffer = acquire()
      let count = try produce(buffer)
      if count == 0 {
        release()
        return total
      }
      try submit(count)
      total += Int64(count)
    }
  }
}
