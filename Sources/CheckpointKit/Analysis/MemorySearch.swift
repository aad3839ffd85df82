import Archive
import CRIU
import Glibc
import OCI
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

/// A match and its context as the memory was read, before it is named.
public struct MemoryMatch: Equatable, Sendable {
  public var address: UInt64
  /// The matched bytes and up to `context` bytes on each side (within the range searched).
  public var match: [UInt8]
  public var before: [UInt8]
  public var after: [UInt8]
}

/// `memparse --search…`: every match in every process's private and shared memory.
public enum MemorySearch {
  /// A checkpoint read once for a search: the processes whose memory was searched while the archive was
  /// decompressed have their matches (or their error) here.
  public struct Pass {
    /// The checkpoint, read whole.
    public let source: CheckpointSource
    let matches: [UInt32: Result<[MemoryMatch], Error>]
  }

  /// Reads `path` once, searching each process's memory (all, or only `pid`) as its pages are decompressed
  /// (see ``MemoryPass``); ``search(_:pattern:context:pid:filter:)`` then gives the hits.
  public static func pass(
    path: String, pattern: SearchPattern, context: Int, pid: UInt32? = nil, filter: MemoryFilter = MemoryFilter(),
    registry: RegistryOptions = RegistryOptions()
  ) throws -> Pass {
    guard context >= 0 else { throw MemoryAnalysisError.invalidPattern("context size cannot be negative") }
    var matches: [UInt32: Result<[MemoryMatch], Error>] = [:]
    let pass = try MemoryPass.run(
      path: path, selection: MemorySelection.memory, registry: registry,
      wants: { memory, _ in pid == nil || memory.pid == pid }
    ) { memory in
      // A failure is reported where the search reaches the process, as without streaming.
      matches[memory.pid] = Result { try self.matches(in: memory, pattern: pattern, context: context, filter: filter) }
    }
    return Pass(source: pass.source, matches: matches.filter { pass.streamed.contains($0.key) })
  }

  /// Searches the processes (all with memory, or only `pid`), in pid and address order; the processes `pass`
  /// searched already are not read again.
  public static func search(
    _ pass: Pass, pattern: SearchPattern, context: Int, pid: UInt32? = nil, filter: MemoryFilter = MemoryFilter()
  ) throws -> [MemoryHit] {
    try search(pass.source, pattern: pattern, context: context, pid: pid, filter: filter, found: pass.matches)
  }

  /// Searches the processes (all with memory, or only `pid`), in pid and address order.
  public static func search(
    _ source: CheckpointSource, pattern: SearchPattern, context: Int, pid: UInt32? = nil,
    filter: MemoryFilter = MemoryFilter()
  ) throws -> [MemoryHit] {
    try search(source, pattern: pattern, context: context, pid: pid, filter: filter, found: [:])
  }

  private static func search(
    _ source: CheckpointSource, pattern: SearchPattern, context: Int, pid: UInt32?, filter: MemoryFilter,
    found: [UInt32: Result<[MemoryMatch], Error>]
  ) throws -> [MemoryHit] {
    guard context >= 0 else { throw MemoryAnalysisError.invalidPattern("context size cannot be negative") }
    let processes =
      try pid.map { [try source.processWithMemory(pid: $0)] } ?? source.processes().filter(\.state.hasResources)
    let maps = try MemoryMaps(source: source)
    var hits: [MemoryHit] = []
    for process in processes {
      try filter.check(source, pid: process.pid)
      let memory = try source.memory(pid: process.pid)
      let matches =
        try found[process.pid]?.get() ?? self.matches(in: memory, pattern: pattern, context: context, filter: filter)
      for match in matches {
        let vma = memory.vma(containing: match.address)
        hits.append(
          MemoryHit(
            pid: process.pid, process: process.name, address: match.address,
            vma: vma.map(maps.name(of:)) ?? "[unknown]", permissions: vma.map(MemoryMaps.permissions) ?? "----",
            match: match.match, before: match.before, after: match.after))
      }
    }
    return hits
  }

  /// Every match in the memory `filter` keeps, in address order, each byte read once.
  static func matches(
    in memory: ProcessMemory, pattern: SearchPattern, context: Int, filter: MemoryFilter
  ) throws -> [MemoryMatch] {
    var result: [MemoryMatch] = []
    for range in filter.apply(memory.ranges(), memory: memory) {
      try scan(range, memory: memory, pattern: pattern, context: context) { result.append($0) }
    }
    return result
  }

  /// Streams a range in 1 MiB chunks, in address order and each byte once, carrying the pattern's overlap so
  /// matches across chunk, page and pagemap-entry boundaries are found once; each match comes with up to
  /// `context` bytes on each side within the range (the bytes before are kept from the chunks before, the
  /// bytes after filled in from the chunks after).
  public static func scan(
    _ range: ProcessMemory.Range, memory: ProcessMemory, pattern: SearchPattern, context: Int = 0,
    found: (MemoryMatch) throws -> Void
  ) throws {
    let overlap = pattern.overlap
    // Bytes kept before each chunk: the overlap, and the context before a match that starts in it.
    let history = overlap + context
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk + history, alignment: 16)
    defer { buffer.deallocate() }
    let end = range.address + range.length
    var carried = 0
    var done: UInt64 = 0
    var reportedUntil = range.address
    // Matches still short of their context after, in address order.
    var waiting: [MemoryMatch] = []
    func afterEnd(_ match: MemoryMatch) -> UInt64 {
      let matchEnd = match.address + UInt64(match.match.count)
      return min(end, matchEnd + min(UInt64(context), end - matchEnd))
    }
    while done < range.length {
      let count = Int(min(UInt64(chunk), range.length - done))
      try memory.read(
        address: range.address + done, into: UnsafeMutableRawBufferPointer(rebasing: buffer[carried..<carried + count]))
      let chunkAddress = range.address + done
      let bufferAddress = chunkAddress - UInt64(carried)
      let filledUntil = chunkAddress + UInt64(count)
      func bytes(_ lower: UInt64, _ upper: UInt64) -> [UInt8] {
        Array(buffer[Int(lower - bufferAddress)..<Int(upper - bufferAddress)])
      }
      // The matches waiting for context get the new bytes; those complete are handed on in order.
      for index in waiting.indices {
        let have = waiting[index].address + UInt64(waiting[index].match.count + waiting[index].after.count)
        let upper = min(afterEnd(waiting[index]), filledUntil)
        if have < upper { waiting[index].after += bytes(have, upper) }
      }
      while let first = waiting.first,
        first.address + UInt64(first.match.count + first.after.count) == afterEnd(first)
      {
        try found(waiting.removeFirst())
      }
      // Matching looks at the last `overlap` bytes before the chunk and the chunk, as it always did.
      let window = carried - min(carried, overlap)
      for (offset, length) in pattern.matches(in: UnsafeRawBufferPointer(rebasing: buffer[window..<carried + count])) {
        let address = bufferAddress + UInt64(window + offset)
        guard address >= reportedUntil else { continue }
        reportedUntil = address + UInt64(max(1, length))
        let lower = max(range.address, address >= UInt64(context) ? address - UInt64(context) : 0)
        let matchEnd = address + UInt64(length)
        var match = MemoryMatch(
          address: address, match: bytes(address, matchEnd), before: bytes(lower, address), after: [])
        match.after = bytes(matchEnd, min(afterEnd(match), filledUntil))
        if waiting.isEmpty && matchEnd + UInt64(match.after.count) == afterEnd(match) {
          try found(match)
        } else {
          waiting.append(match)
        }
      }
      done += UInt64(count)
      let keep = min(history, carried + count)
      if keep > 0 {
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<keep])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(carried + count - keep)..<(carried + count)]))
      }
      carried = keep
    }
    for match in waiting { try found(match) }
  }
}
