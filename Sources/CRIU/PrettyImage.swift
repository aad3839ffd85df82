import Foundation

/// Renders decoded image JSON for people: flags as symbols, addresses in hex, IP addresses as text, device
/// numbers as `major:minor`, task states by their real meaning, and extra payloads as their size.
public enum PrettyImage {
  /// Applies the renderings to a decoded document.
  public static func transform(_ document: OrderedJSON, kind: ImageKind) -> OrderedJSON {
    rewrite(document, key: "", parent: "", kind: kind)
  }

  static let hexKeys: Set<String> = [
    "vaddr", "pgoff", "mm_start_code", "mm_end_code", "mm_start_data", "mm_end_data", "mm_start_stack",
    "mm_start_brk", "mm_brk", "mm_arg_start", "mm_arg_end", "mm_env_start", "mm_env_end", "clear_tid_addr",
    "futex_rla", "blk_sigset", "sigaction", "restorer", "mask", "rseq_abi_pointer", "fs_base", "gs_base",
    "cap_inh", "cap_prm", "cap_eff", "cap_bnd", "cap_amb", "mm_saved_auxv",
  ]
  static let deviceKeys: Set<String> = ["dev", "rdev", "s_dev", "root_dev", "sdev"]

  static func rewrite(_ value: OrderedJSON, key: String, parent: String, kind: ImageKind) -> OrderedJSON {
    switch value {
    case .object(let members):
      return .object(members.map { ($0.0, rewrite($0.1, key: $0.0, parent: key, kind: kind)) })
    case .array(let values):
      // Repeated scalars take the rendering of their field (capabilities, auxv, addresses).
      if key == "src_addr" || key == "dst_addr" { return address(values) }
      return .array(values.map { rewrite($0, key: key, parent: parent, kind: kind) })
    case .number(let text) where kind.name == "PAGEMAP" && key == "flags":
      return UInt64(text).map { .string(symbols($0, pagemapFlags, zero: "0")) } ?? value
    case .number(let text):
      return number(text, key: key, parent: parent) ?? value
    case .string(let text) where key == "extra" || parent == "extra":
      return .string("<\(Data(base64Encoded: text)?.count ?? 0) bytes>")
    case .string(let text) where key == "name" && parent == "usk":
      return .string(unixName(text))
    default:
      return value
    }
  }

  static func number(_ text: String, key: String, parent: String) -> OrderedJSON? {
    guard let number = UInt64(text) ?? Int64(text).map({ UInt64(bitPattern: $0) }) else { return nil }
    if parent == "gpregs" && key != "mode" || hexKeys.contains(key)
      || (parent == "vmas" && (key == "start" || key == "end"))
    {
      return .string("0x" + String(number, radix: 16))
    }
    if deviceKeys.contains(key) { return .string("\(number >> 20):\(number & 0xFFFFF)") }
    switch (parent, key) {
    case ("vmas", "prot"): return .string(symbols(number, protections, zero: "PROT_NONE"))
    case ("vmas", "flags"): return .string(symbols(number, mapFlags, zero: "0"))
    case ("vmas", "status"): return .string(symbols(number, vmaStatus, zero: "0"))
    case (_, "task_state"): return .string(taskStates[number] ?? text)
    case ("isk", "family"), ("usk", "family"), ("psk", "family"):
      return .string(families[number] ?? text)
    case ("isk", "type"), ("usk", "type"): return .string(socketTypes[number] ?? text)
    case ("isk", "proto"): return .string(protocols[number] ?? text)
    case ("isk", "state"), ("usk", "state"): return .string(tcpStates[number] ?? text)
    default: return nil
    }
  }

  /// Names of the bits set in `value` (unknown bits in hex), joined with ` | `.
  static func symbols(_ value: UInt64, _ table: [(UInt64, String)], zero: String) -> String {
    var names: [String] = []
    var rest = value
    for (bit, name) in table where value & bit == bit && bit != 0 {
      names.append(name)
      rest &= ~bit
    }
    if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
    return names.isEmpty ? zero : names.joined(separator: " | ")
  }

  /// IPv4 (one word) or IPv6 (four words) from CRIU's network-order words.
  public static func address(_ words: [OrderedJSON]) -> OrderedJSON {
    let values = words.compactMap { word -> UInt32? in
      if case .number(let text) = word { return UInt32(text) }
      return nil
    }
    guard values.count == words.count, values.count == 1 || values.count == 4 else { return .array(words) }
    var bytes: [UInt8] = []
    for word in values {
      // Stored as the in-memory (little-endian) u32 of a network-order address.
      bytes += [UInt8(word & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word >> 16 & 0xFF), UInt8(word >> 24)]
    }
    return .string(IPAddress.format(bytes))
  }

  static func unixName(_ base64: String) -> String {
    guard let data = Data(base64Encoded: base64) else { return base64 }
    let bytes = [UInt8](data)
    if bytes.first == 0 { return "@" + printable(bytes.dropFirst()) }
    return printable(bytes[...])
  }

  static func printable(_ bytes: ArraySlice<UInt8>) -> String {
    String(bytes.map { (0x20..<0x7F).contains($0) ? Character(Unicode.Scalar($0)) : "." })
  }

  static let protections: [(UInt64, String)] = [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")]
  static let mapFlags: [(UInt64, String)] = [
    (0x1, "MAP_SHARED"), (0x2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
    (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
  ]
  static let vmaStatus: [(UInt64, String)] = [
    (1 << 0, "VMA_AREA_REGULAR"), (1 << 1, "VMA_AREA_STACK"), (1 << 2, "VMA_AREA_VSYSCALL"),
    (1 << 3, "VMA_AREA_VDSO"), (1 << 5, "VMA_AREA_HEAP"), (1 << 6, "VMA_FILE_PRIVATE"), (1 << 7, "VMA_FILE_SHARED"),
    (1 << 8, "VMA_ANON_SHARED"), (1 << 9, "VMA_ANON_PRIVATE"), (1 << 10, "VMA_AREA_SYSVIPC"),
    (1 << 11, "VMA_AREA_SOCKET"), (1 << 12, "VMA_AREA_VVAR"), (1 << 13, "VMA_AREA_AIORING"),
    (1 << 14, "VMA_AREA_MEMFD"), (1 << 15, "VMA_AREA_SHSTK"), (1 << 16, "VMA_AREA_GUARD"),
    (1 << 17, "VMA_AREA_UPROBES"), (1 << 31, "VMA_UNSUPP"),
  ]
  static let pagemapFlags: [(UInt64, String)] = [(1, "PE_PARENT"), (2, "PE_LAZY"), (4, "PE_PRESENT")]
  /// CRIU writes zombies with TASK_DEAD (2); TASK_ZOMBIE (6) never appears in images.
  static let taskStates: [UInt64: String] = [
    1: "alive", 2: "zombie", 3: "stopped", 4: "helper", 5: "thread", 6: "zombie",
  ]
  static let families: [UInt64: String] = [
    1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET",
  ]
  static let socketTypes: [UInt64: String] = [1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 5: "SOCK_SEQPACKET"]
  static let protocols: [UInt64: String] = [
    0: "IPPROTO_IP", 6: "IPPROTO_TCP", 17: "IPPROTO_UDP", 58: "IPPROTO_ICMPV6", 1: "IPPROTO_ICMP",
  ]
  static let tcpStates: [UInt64: String] = [
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
    8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV",
  ]
}

/// IP address text.
public enum IPAddress {
  /// Dotted quad for 4 bytes; RFC 5952 compressed form (longest zero run as `::`) for 16.
  public static func format(_ bytes: [UInt8]) -> String {
    if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
    guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
    let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    // IPv4-mapped addresses read best as ::ffff:a.b.c.d.
    if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
      return "::ffff:" + bytes[12..<16].map(String.init).joined(separator: ".")
    }
    var bestStart = -1
    var bestLength = 0
    var index = 0
    while index < 8 {
      guard groups[index] == 0 else {
        index += 1
        continue
      }
      let start = index
      while index < 8 && groups[index] == 0 { index += 1 }
      if index - start > bestLength && index - start >= 2 {
        bestStart = start
        bestLength = index - start
      }
    }
    let text = groups.map { String($0, radix: 16) }
    guard bestStart >= 0 else { return text.joined(separator: ":") }
    let head = text[0..<bestStart].joined(separator: ":")
    let tail = text[(bestStart + bestLength)...].joined(separator: ":")
    return head + "::" + tail
  }
}
