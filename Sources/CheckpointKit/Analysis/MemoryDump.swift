/// `memparse --pid N`: every readable page of a process in address order, as a hexdump or raw bytes.
public enum MemoryDump {
  /// Output forms.
  public enum Format: Sendable {
    /// Hex rows; `compact` collapses identical rows to `*`.
    case hex(compact: Bool)
    /// The memory bytes themselves.
    case raw
  }

  /// Streams the memory of `memory` to `sink` in 1 MiB reads; returns the number of memory bytes.
  @discardableResult
  public static func dump(
    _ memory: ProcessMemory, format: Format, filter: MemoryFilter = MemoryFilter(), progress: Progress? = nil,
    sink: @escaping (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int64 {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    defer { buffer.deallocate() }
    var hex: HexDump?
    if case .hex(let compact) = format {
      hex = HexDump(compact: compact, sink: sink)
      try Array(HexDump.header.utf8).withUnsafeBytes { try sink($0) }
    }
    var total: Int64 = 0
    for range in filter.apply(memory.ranges(), memory: memory) {
      var done: UInt64 = 0
      while done < range.length {
        let count = Int(min(UInt64(buffer.count), range.length - done))
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        try memory.read(address: range.address + done, into: part)
        if hex != nil {
          try hex?.write(address: range.address + done, bytes: UnsafeRawBufferPointer(part))
        } else {
          try sink(UnsafeRawBufferPointer(part))
        }
        done += UInt64(count)
        total += Int64(count)
        progress?.advance(by: count)
      }
      hex?.endRange()
    }
    try hex?.flush()
    progress?.finish()
    return total
  }

  /// Bytes the dump will read (for progress).
  public static func size(of memory: ProcessMemory, filter: MemoryFilter = MemoryFilter()) -> Int64 {
    filter.apply(memory.ranges(), memory: memory).reduce(0) { $0 + Int64($1.length) }
  }
}
