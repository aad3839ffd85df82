/// `memparse` without `--pid`: memory sizes per process.
public enum MemoryUsage {
  /// One table row.
  public struct Row: Equatable, Sendable {
    public var pid: UInt32
    public var name: String
    /// Bytes of pages in the pagemap (present, lazy or in the parent).
    public var memory: Int64
    /// Virtual size of the MAP_SHARED mappings (as upstream counts it).
    public var sharedMemory: Int64
  }

  /// Rows for every alive or stopped process, by pid.
  public static func rows(_ source: CheckpointSource, pageSize: Int = 4096) throws -> [Row] {
    try source.processes().filter(\.state.hasResources).map { process in
      let map = try PageMap(image: source.image("pagemap-\(process.pid).img"), pageSize: pageSize)
      let mm = try source.image("mm-\(process.pid).img").messages(MmEntry.self).first ?? MmEntry()
      let shared = mm.vmas.filter { $0.flags & 1 != 0 }.reduce(Int64(0)) { $0 + Int64($1.end - $1.start) }
      let pages = map.regions.reduce(Int64(0)) { $0 + Int64($1.pageCount) } * Int64(pageSize)
      return Row(pid: process.pid, name: process.name, memory: pages, sharedMemory: shared)
    }
  }

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
