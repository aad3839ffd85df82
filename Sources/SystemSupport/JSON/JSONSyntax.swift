/// Where JSON text first goes wrong, worded as Go's `encoding/json` words it (`unexpected end of JSON input`,
/// `invalid character 'x' looking for beginning of value`), so that scripts written against upstream
/// checkpointctl's messages still match ours.
public enum JSONSyntax {
  /// Deepest nesting checked; deeper text is reported rather than recursed into.
  static let depthLimit = 512

  /// The first syntax error of `bytes`, `nil` when they are one valid JSON value (with white space around it).
  public static func firstError(in bytes: [UInt8]) -> String? {
    var scanner = Scanner(bytes: bytes)
    do {
      scanner.skipSpace()
      try scanner.value(context: "looking for beginning of value", depth: 0)
      scanner.skipSpace()
      if let byte = scanner.peek() { return invalid(byte, "after top-level value") }
      return nil
    } catch {
      return error.message
    }
  }

  struct Failure: Error {
    var message: String
  }

  static func invalid(_ byte: UInt8, _ context: String) -> String {
    "invalid character \(quoted(byte)) \(context)"
  }

  /// A byte as Go's `quoteChar` shows it: `'x'`, `'\''`, `'"'`, `'\n'`, `'\x00'`.
  static func quoted(_ byte: UInt8) -> String {
    switch byte {
    case UInt8(ascii: "'"): return #"'\''"#
    case UInt8(ascii: "\""): return #"'"'"#
    case UInt8(ascii: "\\"): return #"'\\'"#
    case 0x0A: return #"'\n'"#
    case 0x0D: return #"'\r'"#
    case 0x09: return #"'\t'"#
    case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(byte)))'"
    default:
      let digits = String(byte, radix: 16)
      return #"'\x"# + (digits.count == 1 ? "0" : "") + digits + "'"
    }
  }

  struct Scanner {
    let bytes: [UInt8]
    var index = 0

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func next() throws(Failure) -> UInt8 {
      guard index < bytes.count else { throw Failure(message: "unexpected end of JSON input") }
      defer { index += 1 }
      return bytes[index]
    }

    mutating func skipSpace() {
      while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    mutating func value(context: String, depth: Int) throws(Failure) {
      guard depth < depthLimit else { throw Failure(message: "exceeded max depth") }
      let byte = try next()
      switch byte {
      case UInt8(ascii: "{"): try object(depth: depth)
      case UInt8(ascii: "["): try array(depth: depth)
      case UInt8(ascii: "\""): try string()
      case UInt8(ascii: "t"): try literal("true")
      case UInt8(ascii: "f"): try literal("false")
      case UInt8(ascii: "n"): try literal("null")
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(first: byte)
      default: throw Failure(message: invalid(byte, context))
      }
    }

    mutating func object(depth: Int) throws(Failure) {
      skipSpace()
      if peek() == UInt8(ascii: "}") {
        index += 1
        return
      }
      while true {
        let quote = try next()
        guard quote == UInt8(ascii: "\"") else {
          throw Failure(message: invalid(quote, "looking for beginning of object key string"))
        }
        try string()
        skipSpace()
        let colon = try next()
        guard colon == UInt8(ascii: ":") else { throw Failure(message: invalid(colon, "after object key")) }
        skipSpace()
        try value(context: "looking for beginning of value", depth: depth + 1)
        skipSpace()
        let separator = try next()
        if separator == UInt8(ascii: "}") { return }
        guard separator == UInt8(ascii: ",") else {
          throw Failure(message: invalid(separator, "after object key:value pair"))
        }
        skipSpace()
      }
    }

    mutating func array(depth: Int) throws(Failure) {
      skipSpace()
      if peek() == UInt8(ascii: "]") {
        index += 1
        return
      }
      while true {
        try value(context: "looking for beginning of value", depth: depth + 1)
        skipSpace()
        let separator = try next()
        if separator == UInt8(ascii: "]") { return }
        guard separator == UInt8(ascii: ",") else { throw Failure(message: invalid(separator, "after array element")) }
        skipSpace()
      }
    }

    mutating func string() throws(Failure) {
      while true {
        let byte = try next()
        switch byte {
        case UInt8(ascii: "\""): return
        case UInt8(ascii: "\\"):
          let escape = try next()
          switch escape {
          case UInt8(ascii: "u"):
            for _ in 0..<4 {
              let digit = try next()
              guard Self.isHexDigit(digit) else {
                throw Failure(message: invalid(digit, "in \\u hexadecimal character escape"))
              }
            }
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            continue
          default: throw Failure(message: invalid(escape, "in string escape code"))
          }
        case 0..<0x20: throw Failure(message: invalid(byte, "in string literal"))
        default: continue
        }
      }
    }

    mutating func literal(_ word: String) throws(Failure) {
      for expected in word.utf8.dropFirst() {
        let byte = try next()
        guard byte == expected else {
          throw Failure(
            message: invalid(byte, "in literal \(word) (expecting \(quoted(expected)))"))
        }
      }
    }

    mutating func number(first: UInt8) throws(Failure) {
      var digit = first
      if first == UInt8(ascii: "-") {
        digit = try next()
        guard Self.isDigit(digit) else { throw Failure(message: invalid(digit, "in numeric literal")) }
      }
      if digit != UInt8(ascii: "0") { while let byte = peek(), Self.isDigit(byte) { index += 1 } }
      if peek() == UInt8(ascii: ".") {
        index += 1
        let byte = try next()
        guard Self.isDigit(byte) else {
          throw Failure(message: invalid(byte, "after decimal point in numeric literal"))
        }
        while let byte = peek(), Self.isDigit(byte) { index += 1 }
      }
      if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
        index += 1
        var sign = try next()
        if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { sign = try next() }
        guard Self.isDigit(sign) else { throw Failure(message: invalid(sign, "in exponent of numeric literal")) }
        while let byte = peek(), Self.isDigit(byte) { index += 1 }
      }
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func isHexDigit(_ byte: UInt8) -> Bool {
      isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
  }
}
