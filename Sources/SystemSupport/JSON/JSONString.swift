/// JSON string literals, for the three writers of this module: Go's (``JSONValue/quote(_:)``), Python's
/// (``OrderedJSON/quote(_:)``) and the canonical one (``OrderedJSON/canonicalBytes``).
enum JSONString {
  /// What a literal escapes beyond `"`, `\`, `\n`, `\r`, `\t` and `\u00xx` for other control characters.
  struct Escapes: OptionSet {
    let rawValue: Int

    /// U+2028 and U+2029 as `\u2028` and `\u2029`, as Go's `encoding/json` writes them.
    static let lineSeparators = Escapes(rawValue: 1)
    /// All but printable ASCII, as Python's `json.dumps` (`ensure_ascii`) writes it: `\b` and `\f` by name,
    /// others as `\u` and four lower-case hex digits (a surrogate pair above U+FFFF).
    static let nonASCII = Escapes(rawValue: 2)
  }

  /// `text` as a JSON string literal, with quotes.
  static func literal(_ text: String, escaping escapes: Escapes = []) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case "\u{8}" where escapes.contains(.nonASCII): result += "\\b"
      case "\u{c}" where escapes.contains(.nonASCII): result += "\\f"
      default:
        let value = scalar.value
        if value < 0x20 {
          result += escaped(value)
        } else if escapes.contains(.nonASCII), !(0x20..<0x7F).contains(value) {
          if value > 0xFFFF {
            result += escaped(0xD800 + ((value - 0x10000) >> 10)) + escaped(0xDC00 + ((value - 0x10000) & 0x3FF))
          } else {
            result += escaped(value)
          }
        } else if escapes.contains(.lineSeparators), value == 0x2028 || value == 0x2029 {
          result += escaped(value)
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }

  private static func escaped(_ unit: UInt32) -> String {
    "\\u" + String(unit, radix: 16).leftPadded(to: 4)
  }
}
