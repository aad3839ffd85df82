import Archive
import CRIU
import CheckpointKit
import SystemSupport

extension MemoryUsage {
  /// Upstream's table.
  public static func table(_ rows: [Row], source: String) -> String {
    var lines = [["PID", "PROCESS NAME", "MEMORY SIZE", "SHARED MEMORY SIZE"]]
    lines.append(lines[0].map { String(repeating: "-", count: $0.count) })
    for row in rows {
      lines.append([
        String(row.pid), row.name, ByteCount.format(row.memory), ByteCount.format(row.sharedMemory),
      ])
    }
    return "\nDisplaying processes memory sizes from \(source)\n\n" + PlainTable.render(lines)
  }
}
