import Dispatch
import FoundationEssentials
import Glibc
import SystemSupport

/// A one-line progress report on stderr, shown only when stderr is a terminal and the job is large.
final class TerminalProgress: ProgressReporter {
  /// Jobs smaller than this finish too fast to need a progress line.
  static let minimumTotal: Int64 = 64 << 20

  private let label: String
  private let total: Int64?
  private var done: Int64 = 0
  private var lastReport: UInt64 = 0
  private let enabled: Bool
  private let output: Int32
  private var drawn = false
  private var finished = false

  /// A reporter for `total` bytes (`nil` when the size is not known in advance: the line then appears once
  /// 64 MiB are done); `enabled` nil means "when `output` is a terminal"; `output` is stderr unless a test
  /// gives another descriptor.
  init(label: String, total: Int64?, enabled: Bool? = nil, output: Int32 = STDERR_FILENO) {
    self.label = label
    self.total = total
    self.output = output
    self.enabled = enabled ?? (isatty(output) == 1 && total.map { $0 >= TerminalProgress.minimumTotal } ?? true)
  }

  /// A job that ends without ``finish()`` (it failed) clears its line, so the error that follows starts a line
  /// of its own.
  deinit {
    if enabled && drawn && !finished { write("\r\u{1B}[K") }
  }

  /// Records `bytes` more done, redrawing at most ten times a second.
  func advance(by bytes: Int) {
    guard enabled else { return }
    done += Int64(bytes)
    if total == nil && done < TerminalProgress.minimumTotal { return }
    let now = DispatchTime.now().uptimeNanoseconds
    if now - lastReport >= 100_000_000 {
      lastReport = now
      draw()
    }
  }

  /// Draws the final state and ends the line (a job of unknown size that never reached 64 MiB shows nothing).
  func finish() {
    finished = true
    guard enabled, total != nil || drawn else { return }
    if let total { done = total }
    draw()
    write("\n")
  }

  /// The progress line for the current state.
  var line: String {
    guard let total else { return "\(label): \(ByteCount.format(done))" }
    let percent = total > 0 ? Int(done * 100 / total) : 100
    return "\(label): \(ByteCount.format(done)) of \(ByteCount.format(total)) (\(percent)%)"
  }

  private func draw() {
    drawn = true
    write("\r\u{1B}[K" + line)
  }

  private func write(_ text: String) {
    // Progress is a courtesy: a closed or full stderr never fails the job.
    Array(text.utf8).withUnsafeBytes { bytes in
      guard let base = bytes.baseAddress else { return }
      var offset = 0
      while offset < bytes.count {
        let n = retrying { Glibc.write(output, base + offset, bytes.count - offset) }
        if n <= 0 { return }
        offset += n
      }
    }
  }
}

extension ProgressSink {
  /// Progress lines on stderr when it is a terminal and the job is large.
  static let terminal = ProgressSink { label, total in TerminalProgress(label: label, total: total) }
}
