import Archive
import CRIU
import CheckpointKit
import SystemSupport

/// `memparse --pid N`: every readable page of a process in address order, as a hexdump or raw bytes.
public enum MemoryDump {
  /// Output forms.
  public enum Format: Sendable {
    /// Hex rows; `compact` collapses identical rows to `*`.
    case hex(compact: Bool)
    /// The memory bytes themselves.
    case raw
    /// `{"source", "pid", "rows": [{"address": "0x…", "hex": "…"}]}`: one record per 16 bytes (fewer at the end
    /// of a range), nothing collapsed, written as it is read.
    case json(source: String, pid: UInt32)
  }

  /// Streams the memory of `memory` to `sink` in 1 MiB reads; returns the number of memory bytes.
  @discardableResult
  public static func dump(
    _ memory: ProcessMemory, format: Format, filter: MemoryFilter = MemoryFilter(),
    progress: (any ProgressReporter)? = nil,
    sink: @escaping (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int64 {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    defer { buffer.deallocate() }
    var hex: HexDump?
    var records: JSONRows?
    switch format {
    case .hex(let compact):
      hex = HexDump(compact: compact, sink: sink)
      try Array(HexDump.header.utf8).withUnsafeBytes { try sink($0) }
    case .json(let source, let pid):
      records = try JSONRows(source: source, pid: pid, sink: sink)
    case .raw:
      break
    }
    var total: Int64 = 0
    for range in filter.apply(memory.ranges(), memory: memory) {
      var done: UInt64 = 0
      while done < range.length {
        let count = Int(min(UInt64(buffer.count), range.length - done))
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        try memory.read(address: range.address + done, into: part)
        if let records {
          try records.write(address: range.address + done, bytes: UnsafeRawBufferPointer(part))
        } else if hex != nil {
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
    try records?.finish()
    progress?.finish()
    return total
  }

  /// Bytes the dump will read (for progress).
  public static func size(of memory: ProcessMemory, filter: MemoryFilter = MemoryFilter()) -> Int64 {
    filter.apply(memory.ranges(), memory: memory).reduce(0) { $0 + Int64($1.length) }
  }
}

/// The JSON form of a memory dump, written in blocks of about 1 MiB of text.
final class JSONRows {
  private let sink: (UnsafeRawBufferPointer) throws -> Void
  private var text: [UInt8] = []
  private var first = true
  private static let digits = Array("0123456789abcdef".utf8)

  init(source: String, pid: UInt32, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
    self.sink = sink
    text.reserveCapacity(1 << 20 + 256)
    text += Array("{\"source\": \(JSONValue.quote(source)), \"pid\": \(pid), \"rows\": [".utf8)
  }

  func write(address: UInt64, bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let count = min(16, bytes.count - offset)
      text += Array((first ? "\n" : ",\n").utf8)
      first = false
      text += Array("{\"address\": \"0x\(String(address + UInt64(offset), radix: 16))\", \"hex\": \"".utf8)
      for index in offset..<offset + count {
        let byte = bytes[index]
        text.append(Self.digits[Int(byte >> 4)])
        text.append(Self.digits[Int(byte & 0xF)])
      }
      text += Array("\"}".utf8)
      offset += count
      if text.count >= 1 << 20 { try flush() }
    }
  }

  func finish() throws {
    text += Array("\n]}\n".utf8)
    try flush()
  }

  private func flush() throws {
    try text.withUnsafeBytes { try sink($0) }
    text.removeAll(keepingCapacity: true)
  }
}
