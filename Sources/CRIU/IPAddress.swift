import FoundationEssentials

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
