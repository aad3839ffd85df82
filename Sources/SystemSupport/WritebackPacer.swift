import CSystemShims

/// Starts the kernel's write-back of a file every few MiB written to it, so that the closing `fsync` finds the
/// data already on its way to the device instead of all of it waiting in the page cache.
public struct WritebackPacer {
  /// Bytes written between two starts.
  public let interval: Int64
  /// True: each start covers the bytes written since the previous one, which must be written in order from
  /// offset 0 of the file. False: each start covers the whole file (writes at any offsets).
  public let ranged: Bool
  private var written: Int64 = 0
  private var started: Int64 = 0

  /// A pacer that starts write-back every `interval` bytes.
  public init(interval: Int64 = 8 << 20, ranged: Bool = false) {
    self.interval = interval
    self.ranged = ranged
  }

  /// Counts `count` bytes just written to `file`; starts its write-back once `interval` bytes were written since
  /// the last start.
  public mutating func wrote(_ count: Int, to file: FileDescriptor) {
    written += Int64(count)
    guard written - started >= interval else { return }
    if ranged {
      _ = checkpointctl_start_writeback(file.rawValue, started, written - started)
    } else {
      _ = checkpointctl_start_writeback(file.rawValue, 0, 0)
    }
    started = written
  }
}
