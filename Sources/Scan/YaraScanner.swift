import CYara
import CYaraLoader
import SystemSupport

/// One match of a YARA string.
public struct YaraMatch: Equatable, Sendable {
  public var rule: String
  public var tags: [String]
  /// The string's identifier (`$marker`).
  public var string: String
  /// Where the match starts: a virtual address in memory, an offset in a file.
  public var address: UInt64
  /// The match's length.
  public var length: Int
  /// Its first bytes (libyara keeps up to ``YaraScanner/keptBytes``).
  public var data: [UInt8]

  public init(rule: String, tags: [String], string: String, address: UInt64, length: Int, data: [UInt8]) {
    self.rule = rule
    self.tags = tags
    self.string = string
    self.address = address
    self.length = length
    self.data = data
  }
}

/// Scans runs of bytes with compiled rules, one scan after another on one thread, keeping at most `limit` matches
/// of each rule over all its scans and counting the rest.
final class YaraScanner {
  /// Bytes of each match kept (libyara's default, `YR_CONFIG_MAX_MATCH_DATA`).
  static let keptBytes = 512
  private let scanner: UnsafeMutablePointer<YR_SCANNER>
  private let collector = Collector()

  /// Matches of each rule left out beyond the limit.
  var omitted: [String: Int] { collector.omitted }
  /// Strings (`rule:$string`) that reached libyara's limit of matches in one scan and were not looked for further
  /// in that scan.
  var saturated: Set<String> { collector.saturated }

  init(rules: YaraRules, limit: Int, processMemory: Bool) throws {
    var scanner: UnsafeMutablePointer<YR_SCANNER>?
    guard cy_scanner_create(rules.rules, &scanner) == ERROR_SUCCESS, let scanner else {
      throw ScanError.rules("libyara could not create a scanner (out of memory)")
    }
    self.scanner = scanner
    collector.limit = limit
    cy_scanner_set_flags(scanner, processMemory ? SCAN_FLAGS_PROCESS_MEMORY : 0)
    cy_scanner_set_callback(
      scanner,
      { context, message, data, user in
        let collector = Unmanaged<Collector>.fromOpaque(user!).takeUnretainedValue()
        switch message {
        case CALLBACK_MSG_RULE_MATCHING:
          collector.add(rule: data!.assumingMemoryBound(to: YR_RULE.self), context: context!)
        case CALLBACK_MSG_TOO_MANY_MATCHES:
          let string = data!.assumingMemoryBound(to: YR_STRING.self)
          collector.saturated.insert(String(cString: cy_string_identifier(string)))
        default: break
        }
        return CALLBACK_CONTINUE
      }, Unmanaged.passUnretained(collector).toOpaque())
  }

  deinit { cy_scanner_destroy(scanner) }

  /// Starts counting each rule's matches against the limit again (for the next process or file).
  func startGroup() { collector.reported = [:] }

  /// Scans the blocks `next` gives, each a base address and its bytes (valid until `next` is called again), as
  /// one scan (a rule's condition sees all of them); `fileSize` is what rules see as `filesize` (undefined when
  /// `nil`). Blocks may overlap: a match found in two of them is reported once.
  func scan(fileSize: UInt64?, next: () throws -> (base: UInt64, bytes: UnsafeRawBufferPointer)?) throws -> [YaraMatch]
  {
    try withoutActuallyEscaping(next) { next in
      let blocks = BlockIterator(next: next, fileSize: fileSize)
      var iterator = YR_MEMORY_BLOCK_ITERATOR()
      iterator.context = Unmanaged.passUnretained(blocks).toOpaque()
      iterator.first = { BlockIterator.from($0).advance($0) }
      iterator.next = { BlockIterator.from($0).advance($0) }
      iterator.file_size = fileSize == nil ? nil : { BlockIterator.from($0).fileSize ?? 0 }
      iterator.last_error = ERROR_SUCCESS
      collector.matches = []
      let status = cy_scanner_scan_mem_blocks(scanner, &iterator)
      if let error = blocks.error { throw error }
      guard status == ERROR_SUCCESS else { throw ScanError.yara(status) }
      return collector.matches
    }
  }
}

/// Gathers the matches libyara's callback reports.
private final class Collector {
  var limit = 0
  var matches: [YaraMatch] = []
  var reported: [String: Int] = [:]
  var omitted: [String: Int] = [:]
  var saturated: Set<String> = []

  func add(rule: UnsafePointer<YR_RULE>, context: UnsafeMutablePointer<YR_SCAN_CONTEXT>) {
    let name = String(cString: cy_rule_identifier(rule))
    var tags: [String] = []
    if var tag = cy_rule_tags(rule) {
      while tag.pointee != 0 {
        let text = String(cString: tag)
        tags.append(text)
        tag += text.utf8.count + 1
      }
    }
    var string = cy_rule_strings(rule)
    while let current = string {
      defer { string = cy_next_string(current) }
      let identifier = String(cString: cy_string_identifier(current))
      var match = cy_first_match(context, current)
      while let found = match {
        defer { match = UnsafePointer(found.pointee.next) }
        guard !found.pointee.is_private else { continue }
        guard reported[name, default: 0] < limit else {
          omitted[name, default: 0] += 1
          continue
        }
        reported[name, default: 0] += 1
        let data = found.pointee.data.map {
          Array(UnsafeBufferPointer(start: $0, count: Int(found.pointee.data_length)))
        }
        matches.append(
          YaraMatch(
            rule: name, tags: tags, string: identifier,
            address: UInt64(bitPattern: found.pointee.base &+ found.pointee.offset),
            length: Int(found.pointee.match_length), data: data ?? []))
      }
    }
  }
}

/// The memory-block iterator libyara pulls blocks from.
private final class BlockIterator {
  let next: () throws -> (base: UInt64, bytes: UnsafeRawBufferPointer)?
  let fileSize: UInt64?
  let block = UnsafeMutablePointer<YR_MEMORY_BLOCK>.allocate(capacity: 1)
  var error: Error?

  init(next: @escaping () throws -> (base: UInt64, bytes: UnsafeRawBufferPointer)?, fileSize: UInt64?) {
    self.next = next
    self.fileSize = fileSize
    block.initialize(to: YR_MEMORY_BLOCK())
  }

  deinit { block.deallocate() }

  static func from(_ iterator: UnsafeMutablePointer<YR_MEMORY_BLOCK_ITERATOR>?) -> BlockIterator {
    Unmanaged<BlockIterator>.fromOpaque(iterator!.pointee.context).takeUnretainedValue()
  }

  /// The next block, or `nil` at the end or on an error (kept for the caller, and told to libyara).
  func advance(_ iterator: UnsafeMutablePointer<YR_MEMORY_BLOCK_ITERATOR>?) -> UnsafeMutablePointer<YR_MEMORY_BLOCK>? {
    guard error == nil else { return nil }
    do {
      guard let (base, bytes) = try next() else { return nil }
      block.pointee.base = base
      block.pointee.size = bytes.count
      block.pointee.context = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
      block.pointee.fetch_data = { block in UnsafePointer(block!.pointee.context?.assumingMemoryBound(to: UInt8.self)) }
      return block
    } catch {
      self.error = error
      iterator?.pointee.last_error = ERROR_INTERNAL_FATAL_ERROR
      return nil
    }
  }
}
