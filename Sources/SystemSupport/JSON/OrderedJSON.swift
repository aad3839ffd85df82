/// A JSON value that keeps object members in their order and numbers as written, for rendering output that
/// people read (swift-protobuf writes fields in field-number order, as crit does).
public indirect enum OrderedJSON: Equatable, Sendable {
  case null
  case bool(Bool)
  /// A number exactly as written (64-bit values keep every digit).
  case number(String)
  case string(String)
  case array([OrderedJSON])
  case object([(String, OrderedJSON)])

  public static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// Why text does not parse: what was wrong and at which byte (`unexpected end at byte 12`).
  public struct ParseError: Error, Equatable, CustomStringConvertible {
    /// The reason, with the byte offset.
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { reason }
  }

  /// Parses JSON text (as written by swift-protobuf or this type).
  public init(parsing text: String) throws(ParseError) {
    var parser = Parser(Array(text.utf8))
    self = try parser.value()
    parser.skipSpace()
    guard parser.atEnd else { throw ParseError(reason: "trailing characters at byte \(parser.position)") }
  }

  /// The member named `key` of an object.
  public subscript(key: String) -> OrderedJSON? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// JSON text as Python's `json.dump` writes it: `indent` nil gives one line (`", "` and `": "` between
  /// items), otherwise that many spaces per level; strings are ASCII (see ``quote(_:)``).
  public func rendered(indent: Int? = nil) -> String {
    var output = ""
    write(to: &output, level: 0, indent: indent)
    return output
  }

  /// A JSON string literal as Python's `json.dumps` writes it (`ensure_ascii`): `\"`, `\\`, `\b`, `\f`,
  /// `\n`, `\r`, `\t`, and every other character outside printable ASCII as `\u` and four lower-case hex
  /// digits (a surrogate pair above U+FFFF).
  public static func quote(_ text: String) -> String { JSONString.literal(text, escaping: .nonASCII) }

  private func write(to output: inout String, level: Int, indent: Int?) {
    let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) } ?? ""
    let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
    let separator = indent == nil ? ", " : ","
    switch self {
    case .null: output += "null"
    case .bool(let value): output += value ? "true" : "false"
    case .number(let text): output += text
    case .string(let text): output += OrderedJSON.quote(text)
    case .array(let values):
      guard !values.isEmpty else {
        output += "[]"
        return
      }
      output += "["
      for (index, value) in values.enumerated() {
        output += (index > 0 ? separator : "") + newline
        value.write(to: &output, level: level + 1, indent: indent)
      }
      output += closing + "]"
    case .object(let members):
      guard !members.isEmpty else {
        output += "{}"
        return
      }
      output += "{"
      for (index, (key, value)) in members.enumerated() {
        output += (index > 0 ? separator : "") + newline + OrderedJSON.quote(key) + ": "
        value.write(to: &output, level: level + 1, indent: indent)
      }
      output += closing + "}"
    }
  }

  /// Arrays and objects nested deeper than this are refused (the parser recurses).
  public static let maxDepth = 512

  private struct Parser {
    let bytes: [UInt8]
    var position = 0
    var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpace() {
      while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    func fail(_ what: String) -> ParseError { ParseError(reason: "\(what) at byte \(position)") }

    mutating func expect(_ literal: String) throws(ParseError) {
      let utf8 = Array(literal.utf8)
      guard position + utf8.count <= bytes.count, Array(bytes[position..<position + utf8.count]) == utf8 else {
        throw fail("expected \(literal)")
      }
      position += utf8.count
    }

    mutating func value() throws(ParseError) -> OrderedJSON {
      skipSpace()
      guard position < bytes.count else { throw fail("unexpected end") }
      let opening = bytes[position]
      if opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") {
        guard depth < OrderedJSON.maxDepth else { throw fail("nesting deeper than \(OrderedJSON.maxDepth)") }
        depth += 1
      }
      defer {
        if opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") { depth -= 1 }
      }
      switch opening {
      case UInt8(ascii: "{"):
        position += 1
        var members: [(String, OrderedJSON)] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
          position += 1
          return .object(members)
        }
        while true {
          skipSpace()
          let key = try string()
          skipSpace()
          try expect(":")
          members.append((key, try value()))
          skipSpace()
          if position < bytes.count, bytes[position] == UInt8(ascii: ",") {
            position += 1
            continue
          }
          try expect("}")
          return .object(members)
        }
      case UInt8(ascii: "["):
        position += 1
        var values: [OrderedJSON] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
          position += 1
          return .array(values)
        }
        while true {
          values.append(try value())
          skipSpace()
          if position < bytes.count, bytes[position] == UInt8(ascii: ",") {
            position += 1
            continue
          }
          try expect("]")
          return .array(values)
        }
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"):
        try expect("true")
        return .bool(true)
      case UInt8(ascii: "f"):
        try expect("false")
        return .bool(false)
      case UInt8(ascii: "n"):
        try expect("null")
        return .null
      default:
        let start = position
        while position < bytes.count, "+-0123456789.eE".utf8.contains(bytes[position]) { position += 1 }
        guard position > start else { throw fail("unexpected character") }
        return .number(String(decoding: bytes[start..<position], as: UTF8.self))
      }
    }

    mutating func string() throws(ParseError) -> String {
      try expect("\"")
      var scalars = String.UnicodeScalarView()
      var pendingHigh: UInt32?
      while true {
        guard position < bytes.count else { throw fail("unterminated string") }
        let byte = bytes[position]
        if byte == UInt8(ascii: "\"") {
          position += 1
          return String(scalars)
        }
        if byte == UInt8(ascii: "\\") {
          guard position + 1 < bytes.count else { throw fail("bad escape") }
          let escape = bytes[position + 1]
          position += 2
          switch escape {
          case UInt8(ascii: "n"): scalars.append("\n")
          case UInt8(ascii: "t"): scalars.append("\t")
          case UInt8(ascii: "r"): scalars.append("\r")
          case UInt8(ascii: "b"): scalars.append("\u{8}")
          case UInt8(ascii: "f"): scalars.append("\u{c}")
          case UInt8(ascii: "u"):
            guard position + 4 <= bytes.count,
              let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
            else { throw fail("bad \\u escape") }
            position += 4
            if (0xD800..<0xDC00).contains(code) {
              pendingHigh = code
              continue
            }
            if (0xDC00..<0xE000).contains(code), let high = pendingHigh {
              pendingHigh = nil
              let combined = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
              scalars.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
            } else {
              scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            }
          default: scalars.append(Unicode.Scalar(escape))
          }
          continue
        }
        // Copy a run of plain UTF-8.
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
          position += 1
        }
        scalars.append(contentsOf: String(decoding: bytes[start..<position], as: UTF8.self).unicodeScalars)
      }
    }
  }
}

// MARK: Canonical form

extension OrderedJSON {
  /// An integer, written in decimal.
  public static func integer(_ value: Int64) -> OrderedJSON { .number(String(value)) }

  /// An object from a string map, keys sorted.
  public static func sorted(_ map: [String: String]) -> OrderedJSON {
    .object(map.keys.sorted().map { ($0, .string(map[$0] ?? "")) })
  }

  /// JSON written byte for byte the same every time: objects keep the order they are built in (callers sort maps),
  /// numbers as written, no spaces, strings escaped as Go's `encoding/json` escapes them except for HTML
  /// characters, U+2028 and U+2029 (only `"`, `\` and control characters). Digests of OCI manifests depend on
  /// these bytes, so the same image always has the same digest.
  public var canonicalBytes: [UInt8] {
    var out: [UInt8] = []
    writeCanonical(to: &out)
    return out
  }

  private func writeCanonical(to out: inout [UInt8]) {
    switch self {
    case .string(let text): out.append(contentsOf: JSONString.literal(text).utf8)
    case .number(let text): out.append(contentsOf: text.utf8)
    case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
    case .null: out.append(contentsOf: "null".utf8)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (index, item) in items.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        item.writeCanonical(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: JSONString.literal(key).utf8)
        out.append(UInt8(ascii: ":"))
        value.writeCanonical(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }
}
