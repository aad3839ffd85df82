import FoundationEssentials
import SystemSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An integer of any protobuf integer type: a sign and a 64-bit magnitude.
public struct CritInteger: Equatable, Sendable {
  /// True below zero (never for zero).
  public var negative: Bool
  /// The absolute value.
  public var magnitude: UInt64

  /// A non-negative value.
  public init(_ value: UInt64) {
    negative = false
    magnitude = value
  }

  /// A value with a sign; `-0` is `0`.
  public init(negative: Bool, magnitude: UInt64) {
    self.negative = negative && magnitude != 0
    self.magnitude = magnitude
  }

  /// Parses a JSON number as swift-protobuf writes integers (`-12`, `18446744073709551615`).
  init?(json text: String) {
    if text.hasPrefix("-") {
      guard let magnitude = UInt64(text.dropFirst()) else { return nil }
      self.init(negative: true, magnitude: magnitude)
    } else {
      guard let value = UInt64(text) else { return nil }
      self.init(value)
    }
  }

  /// The decimal text.
  public var decimal: String { (negative ? "-" : "") + String(magnitude) }

  /// Python's `"0x%x" % value`: lower-case hex, the sign before the prefix.
  public var hex: String { (negative ? "-0x" : "0x") + String(magnitude, radix: 16) }

  /// True when the value fits the field type (`int32` … `uint64`).
  func fits(_ type: CritFieldType) -> Bool {
    switch type {
    case .signed(let bits):
      let limit: UInt64 = bits == 32 ? 1 << 31 : 1 << 63
      return negative ? magnitude <= limit : magnitude < limit
    case .unsigned(let bits):
      return !negative && (bits == 64 || magnitude <= UInt64(UInt32.max))
    default:
      return false
    }
  }
}

/// A value crit's text forms cannot express; the caller adds where it was.
struct CritValueError: Error {
  var message: String
  init(_ message: String) { self.message = message }
}

/// The text forms crit (Python 3) gives values: integers as `int(text, 0)` reads them, `base64.encodebytes`,
/// quoted-printable (`quopri`), flag names, device numbers and IP addresses.
public enum CritText {
  // MARK: Integers

  /// Parses an integer like Python's `int(text, 0)` (`prefixed`: `0x`, `0o`, `0b` or decimal without leading
  /// zeros) or `int(text)` (decimal, leading zeros allowed): surrounding white space, a sign, and single
  /// underscores between digits. Values beyond 64 bits are an error, as no protobuf field can hold them.
  static func integer(_ text: String, prefixed: Bool) throws -> CritInteger {
    let invalid = CritValueError("invalid integer \(JSONValue.quote(text))")
    var bytes = Substring(text).utf8.drop { isSpace($0) }
    while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
    var negative = false
    if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
      negative = first == UInt8(ascii: "-")
      bytes = bytes.dropFirst()
    }
    var radix: UInt64 = 10
    var digits = Array(bytes)
    var afterPrefix = false
    if prefixed, digits.count >= 2, digits[0] == UInt8(ascii: "0") {
      switch digits[1] | 0x20 {
      case UInt8(ascii: "x"): radix = 16
      case UInt8(ascii: "o"): radix = 8
      case UInt8(ascii: "b"): radix = 2
      default: break
      }
      if radix != 10 {
        digits.removeFirst(2)
        afterPrefix = true
      }
    }
    // An underscore may follow the prefix or a digit, and must be followed by a digit.
    guard !digits.isEmpty, digits.last != UInt8(ascii: "_") else { throw invalid }
    var magnitude: UInt64 = 0
    var overflow = false
    var previousUnderscore = !afterPrefix
    var sawNonZero = false
    for byte in digits {
      if byte == UInt8(ascii: "_") {
        guard !previousUnderscore else { throw invalid }
        previousUnderscore = true
        continue
      }
      previousUnderscore = false
      guard let digit = digitValue(byte), digit < radix else { throw invalid }
      if digit != 0 { sawNonZero = true }
      let (shifted, o1) = magnitude.multipliedReportingOverflow(by: radix)
      let (sum, o2) = shifted.addingReportingOverflow(digit)
      overflow = overflow || o1 || o2
      magnitude = sum
    }
    // Python 3 refuses "007" in base 0 (it would be octal in Python 2) but accepts "000".
    if prefixed, radix == 10, digits.first == UInt8(ascii: "0"), sawNonZero { throw invalid }
    if overflow { throw CritValueError("integer \(JSONValue.quote(text)) is out of range") }
    return CritInteger(negative: negative, magnitude: magnitude)
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
  }

  private static func digitValue(_ byte: UInt8) -> UInt64? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt64(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt64(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
  }

  // MARK: Flags, tables and devices

  /// crit's `map_flags`: the names of the set bits in table order, then any other bits in hex, joined with
  /// `" | "`; zero is the empty string.
  public static func flagNames(_ value: UInt64, table: [(String, UInt64)]) -> String {
    var names = table.filter { value & $0.1 != 0 }.map(\.0)
    let rest = value & ~table.reduce(0) { $0 | $1.1 }
    if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
    return names.joined(separator: " | ")
  }

  /// crit's `unmap_flags`: the sum of the `|`-separated names (or integers, `int(x, 0)`); `""` is 0.
  static func flagValue(_ text: String, table: [(String, UInt64)]) throws -> CritInteger {
    guard !text.isEmpty else { return CritInteger(0) }
    let names = Dictionary(table, uniquingKeysWith: { first, _ in first })
    var total: UInt64 = 0
    for part in text.split(separator: "|", omittingEmptySubsequences: false) {
      let name = part.trimmedWhitespace()
      let value: UInt64
      if let known = names[name] {
        value = known
      } else {
        let number = try integer(name, prefixed: true)
        guard !number.negative else { throw CritValueError("negative flag \(JSONValue.quote(name))") }
        value = number.magnitude
      }
      let (sum, overflow) = total.addingReportingOverflow(value)
      guard !overflow else { throw CritValueError("flags \(JSONValue.quote(text)) are out of range") }
      total = sum
    }
    return CritInteger(total)
  }

  /// `major:minor` of a device number: the kernel's encoding (`minor` in the low 20 bits) or, for `old`, the
  /// `dev_t` of glibc's `makedev`.
  public static func device(_ value: UInt64, old: Bool) -> String {
    if old {
      let major = (value & 0xF_FF00) >> 8 | (value & 0xFFFF_F000_0000_0000) >> 32
      let minor = value & 0xFF | (value & 0xFFF_FFF0_0000) >> 12
      return "\(major):\(minor)"
    }
    return "\(value >> 20):\(value & 0xFFFFF)"
  }

  /// The device number of `major:minor` (crit takes the first two decimal parts).
  static func deviceNumber(_ text: String, old: Bool) throws -> CritInteger {
    let parts = try text.split(separator: ":", omittingEmptySubsequences: false).map {
      try integer(String($0), prefixed: false)
    }
    guard parts.count >= 2, !parts[0].negative, !parts[1].negative, parts[0].magnitude <= UInt32.max,
      parts[1].magnitude <= UInt32.max
    else { throw CritValueError("invalid device \(JSONValue.quote(text))") }
    let major = parts[0].magnitude
    let minor = parts[1].magnitude
    if old {
      return CritInteger(
        (major & 0xFFF) << 8 | (major & 0xFFFF_F000) << 32 | minor & 0xFF | (minor & 0xFFFF_FF00) << 12)
    }
    guard major < 1 << 44 else { throw CritValueError("invalid device \(JSONValue.quote(text))") }
    return CritInteger(major << 20 | minor)
  }

  // MARK: Addresses

  /// crit's address text of CRIU's address words (each the in-memory `u32` of four network-order bytes): an
  /// IPv4 address for one word, the compressed IPv6 form of Python's `ipaddress` for four; nil otherwise.
  public static func address(_ words: [UInt32]) -> String? {
    let bytes = words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    if words.count == 1 { return bytes.map(String.init).joined(separator: ".") }
    guard words.count == 4 else { return nil }
    let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    // The first longest run of two or more zero groups becomes "::".
    var best = (start: -1, length: 0)
    var run = (start: -1, length: 0)
    for (index, group) in groups.enumerated() {
      if group == 0 {
        run = (run.start < 0 ? index : run.start, run.length + 1)
        if run.length > best.length { best = run }
      } else {
        run = (-1, 0)
      }
    }
    let text = groups.map { String($0, radix: 16) }
    guard best.length > 1 else { return text.joined(separator: ":") }
    let head = text[0..<best.start].joined(separator: ":")
    let tail = text[(best.start + best.length)...].joined(separator: ":")
    return head + "::" + tail
  }

  /// The address words of an IPv4 or IPv6 address text.
  static func addressWords(_ text: String) throws -> [UInt32] {
    var bytes = [UInt8](repeating: 0, count: 16)
    let count: Int
    if inet_pton(AF_INET, text, &bytes) == 1 {
      count = 4
    } else if inet_pton(AF_INET6, text, &bytes) == 1 {
      count = 16
    } else {
      throw CritValueError("invalid IP address \(JSONValue.quote(text))")
    }
    return stride(from: 0, to: count, by: 4).map {
      UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
    }
  }

  // MARK: Bytes

  /// Python's `base64.encodebytes`: standard base64 in lines of 76 characters, each ended by `\n`.
  public static func base64Lines(_ bytes: [UInt8]) -> String {
    let encoded = Data(bytes).base64EncodedString()
    var output = ""
    output.reserveCapacity(encoded.count + encoded.count / 76 + 1)
    var line = encoded[...]
    while !line.isEmpty {
      output += line.prefix(76)
      output += "\n"
      line = line.dropFirst(76)
    }
    return output
  }

  /// Python's `base64.decodebytes`: characters outside the alphabet are skipped, decoding stops after the
  /// padding, and an incomplete final group is an error.
  static func base64Bytes(_ text: String) throws -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count * 3 / 4)
    var carry: UInt32 = 0
    var position = 0
    var pads = 0
    for byte in text.utf8 {
      if byte == UInt8(ascii: "=") {
        if position >= 2 {
          pads += 1
          if position + pads >= 4 { return output }
        }
        continue
      }
      guard let value = base64Value(byte) else { continue }
      switch position {
      case 0:
        carry = value
      case 1:
        output.append(UInt8(truncatingIfNeeded: carry << 2 | value >> 4))
        carry = value & 0x0F
      case 2:
        output.append(UInt8(truncatingIfNeeded: carry << 4 | value >> 2))
        carry = value & 0x03
      default:
        output.append(UInt8(truncatingIfNeeded: carry << 6 | value))
        carry = 0
      }
      position = (position + 1) % 4
    }
    guard position == 0 else { throw CritValueError("invalid base64 (incorrect padding)") }
    return output
  }

  private static func base64Value(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(byte - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(byte - UInt8(ascii: "a") + 26)
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0") + 52)
    case UInt8(ascii: "+"): return 62
    case UInt8(ascii: "/"): return 63
    default: return nil
    }
  }

  /// Python's `quopri.encodestring` (`binascii.b2a_qp` of text, tabs and spaces kept): `=`, control bytes
  /// and bytes above 126 as `=XX`, white space before a line end or at the very end encoded, a lone `.` line
  /// encoded, and soft line breaks (`=\n`) keeping lines under 76 characters. Line ends are `\r\n` when the
  /// first line end of the data is.
  public static func quotedPrintable(_ data: [UInt8]) -> String {
    let maxLine = 76
    let newline = UInt8(ascii: "\n")
    let carriage = UInt8(ascii: "\r")
    var crlf = false
    if let first = data.firstIndex(of: newline), first > 0, data[first - 1] == carriage { crlf = true }
    var out: [UInt8] = []
    var lineLength = 0
    var index = 0
    func softBreak() {
      out.append(UInt8(ascii: "="))
      if crlf { out.append(carriage) }
      out.append(newline)
      lineLength = 0
    }
    func appendHex(_ byte: UInt8) {
      let digits = Array("0123456789ABCDEF".utf8)
      out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }
    while index < data.count {
      let byte = data[index]
      let next: UInt8? = index + 1 < data.count ? data[index + 1] : nil
      let isLast = next == nil
      let loneDot =
        byte == UInt8(ascii: ".") && lineLength == 0
        && (isLast || next == newline || next == carriage || next == 0)
      let blank = byte == UInt8(ascii: "\t") || byte == UInt8(ascii: " ")
      let encode =
        byte > 126 || byte == UInt8(ascii: "=") || loneDot || (blank && isLast)
        || (byte < 33 && byte != carriage && byte != newline && !blank)
      if encode {
        if lineLength + 3 >= maxLine { softBreak() }
        out.append(UInt8(ascii: "="))
        appendHex(byte)
        index += 1
        lineLength += 3
      } else if byte == newline || (byte == carriage && next == newline) {
        lineLength = 0
        // White space at the end of a line is encoded.
        if let last = out.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
          out[out.count - 1] = UInt8(ascii: "=")
          appendHex(last)
        }
        if crlf { out.append(carriage) }
        out.append(newline)
        index += byte == carriage ? 2 : 1
      } else {
        if !isLast, next != newline, lineLength + 1 >= maxLine { softBreak() }
        lineLength += 1
        out.append(byte)
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Python's `quopri.decodestring` (`binascii.a2b_qp`): `=XX` escapes, soft line breaks removed, anything
  /// else kept. The text must be ASCII.
  static func unquotedPrintable(_ text: String) throws -> [UInt8] {
    let data = Array(text.utf8)
    guard data.allSatisfy({ $0 < 0x80 }) else {
      throw CritValueError("quoted-printable text must be ASCII")
    }
    var out: [UInt8] = []
    var index = 0
    while index < data.count {
      guard data[index] == UInt8(ascii: "=") else {
        out.append(data[index])
        index += 1
        continue
      }
      index += 1
      guard index < data.count else { break }
      let byte = data[index]
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
        while index < data.count, data[index] != UInt8(ascii: "\n") { index += 1 }
        if index < data.count { index += 1 }
      } else if byte == UInt8(ascii: "=") {
        out.append(byte)
        index += 1
      } else if index + 1 < data.count, let high = hexValue(byte), let low = hexValue(data[index + 1]) {
        out.append(high << 4 | low)
        index += 2
      } else {
        out.append(UInt8(ascii: "="))
      }
    }
    return out
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
