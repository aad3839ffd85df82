import Archive
import CRIU
import Glibc
import SystemSupport

/// What `memparse` searches for: a literal string, hex bytes, or a regular expression over raw bytes.
public struct SearchPattern: Sendable {
  enum Matcher: @unchecked Sendable {
    case literal([UInt8])
    case regex(ByteRegex)
  }

  let matcher: Matcher
  /// The pattern as the user gave it.
  public let text: String

  /// Longest match a regular expression may have and still be found across a chunk boundary.
  static let regexWindow = 4096

  /// Searches for the bytes of `string` (UTF-8), exactly: no byte is rewritten before matching.
  public init(string: String) throws {
    guard !string.isEmpty else { throw MemoryAnalysisError.invalidPattern("the search string is empty") }
    matcher = .literal(Array(string.utf8))
    text = string
  }

  /// Searches for hex bytes (`4d454d`, `4d 45 4d` or `0x4d454d`).
  public init(hex: String) throws {
    var digits = hex.filter { !$0.isWhitespace && $0 != ":" }
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits.removeFirst(2) }
    guard !digits.isEmpty, digits.count % 2 == 0 else {
      throw MemoryAnalysisError.invalidPattern("hex pattern \(quoted(hex)) needs an even number of hex digits")
    }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
      let next = digits.index(index, offsetBy: 2)
      guard let byte = UInt8(digits[index..<next], radix: 16) else {
        throw MemoryAnalysisError.invalidPattern("hex pattern \(quoted(hex)) has a character that is not hex")
      }
      bytes.append(byte)
      index = next
    }
    matcher = .literal(bytes)
    text = hex
  }

  /// A regular expression (POSIX extended syntax with `\d` and `(?i)`, see ``ByteRegex``) run over the raw
  /// bytes, each byte one character; `.` matches every byte, a newline included.
  public init(regex: String) throws {
    do {
      matcher = .regex(try ByteRegex(regex))
    } catch {
      throw MemoryAnalysisError.invalidPattern("invalid regular expression \(quoted(regex)): \(error.message)")
    }
    text = regex
  }

  /// Bytes kept from one chunk to the next so that matches across the boundary are found.
  var overlap: Int {
    switch matcher {
    case .literal(let bytes): return bytes.count - 1
    case .regex: return Self.regexWindow
    }
  }

  /// Every match in `buffer` as (start, length).
  func matches(in buffer: UnsafeRawBufferPointer) -> [(Int, Int)] {
    guard let base = buffer.baseAddress else { return [] }
    var found: [(Int, Int)] = []
    switch matcher {
    case .literal(let needle):
      needle.withUnsafeBytes { pattern in
        guard let first = pattern.first, let patternBase = pattern.baseAddress else { return }
        var position = 0
        let last = buffer.count - pattern.count
        while position <= last {
          guard let hit = memchr(base + position, Int32(first), last - position + 1) else { return }
          let offset = base.distance(to: UnsafeRawPointer(hit))
          if memcmp(base + offset, patternBase, pattern.count) == 0 { found.append((offset, pattern.count)) }
          position = offset + 1
        }
      }
    case .regex(let expression):
      found = expression.matches(in: buffer)
    }
    return found
  }
}

/// One match in a process's memory.
public struct MemoryHit: Equatable, Sendable {
  public var pid: UInt32
  public var process: String
  public var address: UInt64
  /// What the VMA maps (see ``MemoryMaps/name(of:)``) and its permissions.
  public var vma: String
  public var permissions: String
  /// The matched bytes and up to `context` bytes on each side.
  public var match: [UInt8]
  public var before: [UInt8]
  public var after: [UInt8]
}

/// `memparse --search…`: every match in every process's private and shared memory.
public enum MemorySearch {
  /// Searches the processes (all with memory, or only `pid`), in pid and address order.
  public static func search(
    _ source: CheckpointSource, pattern: SearchPattern, context: Int, pid: UInt32? = nil,
    filter: MemoryFilter = MemoryFilter()
  ) throws -> [MemoryHit] {
    guard context >= 0 else { throw MemoryAnalysisError.invalidPattern("context size cannot be negative") }
    let processes =
      try pid.map { [try source.processWithMemory(pid: $0)] } ?? source.processes().filter(\.state.hasResources)
    let maps = try MemoryMaps(source: source)
    var hits: [MemoryHit] = []
    for process in processes {
      try filter.check(source, pid: process.pid)
      let memory = try source.memory(pid: process.pid)
      for range in filter.apply(memory.ranges(), memory: memory) {
        try scan(range, memory: memory, pattern: pattern) { address, length in
          let vma = memory.vma(containing: address)
          let start = max(range.address, address >= UInt64(context) ? address - UInt64(context) : 0)
          let end = min(range.address + range.length, address + UInt64(length) + UInt64(context))
          let window = try memory.read(address: start, count: Int(end - start))
          let matchStart = Int(address - start)
          hits.append(
            MemoryHit(
              pid: process.pid, process: process.name, address: address,
              vma: vma.map(maps.name(of:)) ?? "[unknown]", permissions: vma.map(MemoryMaps.permissions) ?? "----",
              match: Array(window[matchStart..<matchStart + length]), before: Array(window[..<matchStart]),
              after: Array(window[(matchStart + length)...])))
        }
      }
    }
    return hits
  }

  /// Streams a range in 1 MiB chunks, carrying the pattern's overlap so matches across chunk, page and
  /// pagemap-entry boundaries are found once.
  public static func scan(
    _ range: ProcessMemory.Range, memory: ProcessMemory, pattern: SearchPattern,
    found: (UInt64, Int) throws -> Void
  ) throws {
    let overlap = pattern.overlap
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk + overlap, alignment: 16)
    defer { buffer.deallocate() }
    var carried = 0
    var done: UInt64 = 0
    var reportedUntil = range.address
    while done < range.length {
      let count = Int(min(UInt64(chunk), range.length - done))
      try memory.read(
        address: range.address + done, into: UnsafeMutableRawBufferPointer(rebasing: buffer[carried..<carried + count]))
      let bufferAddress = range.address + done - UInt64(carried)
      for (offset, length) in pattern.matches(in: UnsafeRawBufferPointer(rebasing: buffer[0..<carried + count])) {
        let address = bufferAddress + UInt64(offset)
        guard address >= reportedUntil else { continue }
        reportedUntil = address + UInt64(max(1, length))
        try found(address, length)
      }
      done += UInt64(count)
      let keep = min(overlap, carried + count)
      if keep > 0 {
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<keep])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(carried + count - keep)..<(carried + count)]))
      }
      carried = keep
    }
  }
}
