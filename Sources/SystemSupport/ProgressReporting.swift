/// How a long job reports how far it got. Libraries only call it; the command line decides what, if anything,
/// to draw (a progress line on a terminal).
public protocol ProgressReporter: AnyObject {
  /// Records `bytes` more done.
  func advance(by bytes: Int)
  /// The job is done.
  func finish()
}

/// Starts the reporting of one job: its label (`Building`, `Pushing`) and its size in bytes (`nil` when it is not
/// known in advance). Passed as a value to the library calls that run long jobs.
public struct ProgressSink: Sendable {
  private let starter: @Sendable (String, Int64?) -> any ProgressReporter

  /// A sink whose jobs report through what `start` returns for each.
  public init(_ start: @escaping @Sendable (_ label: String, _ total: Int64?) -> any ProgressReporter) {
    starter = start
  }

  /// The reporter of a new job.
  public func start(_ label: String, total: Int64?) -> any ProgressReporter { starter(label, total) }

  /// Reports nothing.
  public static let none = ProgressSink { _, _ in SilentProgress() }
}

/// A reporter that ignores everything.
final class SilentProgress: ProgressReporter {
  func advance(by bytes: Int) {}
  func finish() {}
}

/// Bytes read at offsets that advance a progress report as they are read.
public final class ProgressReportingBytes: RandomAccessBytes {
  private let base: RandomAccessBytes
  private let progress: any ProgressReporter

  /// `base`, reporting every read to `progress`.
  public init(_ base: RandomAccessBytes, progress: any ProgressReporter) {
    self.base = base
    self.progress = progress
  }

  public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    let n = try base.read(into: buffer, at: offset)
    progress.advance(by: n)
    return n
  }
}
