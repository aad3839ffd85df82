import Glibc

/// Human-readable byte counts, as upstream checkpointctl prints them.
public enum ByteCount {
  /// 1024-based with one decimal (`85.7 KiB`), or `N B` under 1024.
  public static func format(_ bytes: Int64) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return "\(oneDecimal(value)) \(units[unit])"
  }

  /// `value` with one decimal, rounded as C's `%.1f` rounds.
  static func oneDecimal(_ value: Double) -> String { fixed(value, decimals: 1) }

  /// `value` with `decimals` decimals, rounded as C's `%.Nf` rounds (Foundation's `String(format:)` is not
  /// needed).
  public static func fixed(_ value: Double, decimals: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 400)
    let written = withVaList([Int32(max(0, min(decimals, 20))), value]) { arguments in
      buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.*f", arguments) }
    }
    guard written > 0, Int(written) < buffer.count else { return "\(value)" }
    return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
