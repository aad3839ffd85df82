import Archive
import CRIU
import SystemSupport

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
      let map = try source.pageMap(.pagemap(pid: process.pid), pageSize: pageSize)
      // The VMAs are checked (start below end, disjoint) and the regions end inside 64 bits and do not
      // overlap, so each sum is at most 2^64 - 1 bytes; it is shown clamped to Int64.
      let mm = try source.memoryMap(pid: process.pid)
      let shared = mm.vmas.filter { $0.flags & 1 != 0 }.reduce(UInt64(0)) { $0 &+ ($1.end - $1.start) }
      let pages = map.regions.reduce(UInt64(0)) { $0 &+ $1.pageCount &* UInt64(pageSize) }
      return Row(
        pid: process.pid, name: process.name, memory: Int64(clamping: pages), sharedMemory: Int64(clamping: shared))
    }
  }
}
