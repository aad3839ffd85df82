import Foundation

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
    return String(format: "%.1f %@", value, units[unit])
  }
}
