import Foundation
import Glibc

/// A one-line progress report on stderr, shown only when stderr is a terminal and the job is large.
public final class Progress {
  /// Jobs smaller than this finish too fast to need a progress line.
  public static let minimumTotal: Int64 = 64 << 20

  private let label: String
  private let total: Int64
  private var done: Int64 = 0
  private var lastReport: UInt64 = 0
  private let enabled: Bool

  /// A reporter for `total` bytes; `enabled` nil means "when stderr is a terminal".
  public init(label: String, total: Int64, enabled: Bool? = nil) {
    self.label = label
    self.total = total
    self.enabled = enabled ?? (isatty(STDERR_FILENO) == 1 && total >= Progress.minimumTotal)
  }

  /// Records `bytes` more done, redrawing at most ten times a second.
  public func advance(by bytes: Int) {
    guard enabled else { return }
    done += Int64(bytes)
    let now = DispatchTime.now().uptimeNanoseconds
    if now - lastReport >= 100_000_000 {
      lastReport = now
      draw()
    }
  }

  /// Draws the final state and ends the line.
  public func finish() {
    guard enabled else { return }
    done = total
    draw()
    FileHandle.standardError.write(Data("\n".utf8))
  }

  /// The progress line for the current state.
  public var line: String {
    let percent = total > 0 ? Int(done * 100 / total) : 100
    return "\(label): \(ByteCount.format(done)) of \(ByteCount.format(total)) (\(percent)%)"
  }

  private func draw() {
    FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
  }
}
