import CSystemShims
import Foundation
import Glibc

/// Copies a stream into a file with the producer (for example a decompressor) and the writer on two threads.
///
/// Memory is bounded by a small ring of buffers. The writer starts the kernel's write-back as it goes, so the
/// closing `fsync` finds the data already on its way to the device instead of flushing it all at the end.
public enum PipelinedCopy {
  /// Buffers in flight and their size: 4 MiB of memory whatever the stream's length.
  static let bufferCount = 4
  static let bufferSize = 1 << 20
  /// Write-back is started every this many bytes.
  static let writebackInterval: Int64 = 8 << 20

  /// Fills buffers with `produce` (which returns 0 at the end) and writes them to `file` on a second thread;
  /// returns the number of bytes copied. The file is not synced: the caller decides when.
  public static func copy(
    into file: FileDescriptor, produce: (UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> Int64 {
    let ring = Ring(count: bufferCount, size: bufferSize, file: file)
    defer { ring.deallocate() }
    let writer = Thread { ring.drain() }
    writer.stackSize = 1 << 20
    writer.start()
    var total: Int64 = 0
    var failure: Error?
    while true {
      let (index, buffer) = ring.acquireEmpty()
      var count = 0
      // After a failure on either side, an empty buffer ends the stream so the writer thread finishes.
      if failure == nil && ring.writeError == nil {
        do {
          count = try produce(buffer)
        } catch {
          failure = error
        }
      }
      ring.submit(index: index, count: count)
      if count == 0 { break }
      total += Int64(count)
    }
    ring.waitUntilDrained()
    if let failure { throw failure }
    if let error = ring.writeError { throw error }
    return total
  }

  /// The buffers shared by the two threads: `empty` counts free buffers, `full` counts submitted ones.
  private final class Ring: @unchecked Sendable {
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var counts: [Int]
    private let empty: DispatchSemaphore
    private let full = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var produced = 0
    private let lock = NSLock()
    private var storedError: Error?
    private let file: FileDescriptor

    init(count: Int, size: Int, file: FileDescriptor) {
      self.file = file
      buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096) }
      counts = Array(repeating: 0, count: count)
      // Created at zero and signalled up: libdispatch traps when a semaphore is released below its initial value.
      empty = DispatchSemaphore(value: 0)
      for _ in 0..<count { empty.signal() }
    }

    func deallocate() { buffers.forEach { $0.deallocate() } }

    var writeError: Error? {
      lock.lock()
      defer { lock.unlock() }
      return storedError
    }

    /// Producer: the next free buffer.
    func acquireEmpty() -> (Int, UnsafeMutableRawBufferPointer) {
      empty.wait()
      let index = produced % buffers.count
      return (index, buffers[index])
    }

    /// Producer: hands `count` bytes of buffer `index` to the writer (0 ends the stream).
    func submit(index: Int, count: Int) {
      counts[index] = count
      produced += 1
      full.signal()
    }

    func waitUntilDrained() { finished.wait() }

    /// Writer thread: writes buffers in order until the empty one that ends the stream.
    func drain() {
      var consumed = 0
      var written: Int64 = 0
      var writebackStart: Int64 = 0
      while true {
        full.wait()
        let index = consumed % buffers.count
        consumed += 1
        let count = counts[index]
        if count == 0 { break }
        if writeError == nil {
          do {
            try file.write(UnsafeRawBufferPointer(rebasing: buffers[index][0..<count]))
            written += Int64(count)
            if written - writebackStart >= PipelinedCopy.writebackInterval {
              _ = checkpointctl_start_writeback(file.rawValue, writebackStart, written - writebackStart)
              writebackStart = written
            }
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
}
