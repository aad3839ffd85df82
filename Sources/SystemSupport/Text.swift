extension StringProtocol {
  /// The text without the white space (spaces, tabs, newlines) at either end.
  public func trimmedWhitespace() -> String {
    String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
  }
}

extension String {
  /// The string padded on the left to `width` characters.
  package func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}

/// `text` with its control characters escaped as ``quoted(_:)`` escapes them (`\n`, `\t`, `\x1b`), without
/// quotes: an error message stays one line whatever names it carries, and printable text is left as it is.
public func singleLine(_ text: String) -> String {
  guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
  return escaped(text, quotes: false)
}

/// Bytes of unknown encoding (a container's log) as one printable line: valid UTF-8 kept with its control
/// characters escaped as ``singleLine(_:)`` escapes them, and every byte that is not part of valid UTF-8 as `\xNN`.
public func printableLine(_ bytes: [UInt8]) -> String {
  if let text = String(validating: bytes, as: UTF8.self) { return singleLine(text) }
  var result = ""
  var parser = Unicode.UTF8.ForwardParser()
  var input = bytes.makeIterator()
  var offset = 0
  while true {
    switch parser.parseScalar(from: &input) {
    case .valid(let encoded):
      result += singleLine(String(Unicode.UTF8.decode(encoded)))
      offset += encoded.count
    case .error(let length):
      for byte in bytes[offset..<offset + length] { result += "\\x" + String(byte, radix: 16).leftPadded(to: 2) }
      offset += length
    case .emptyInput:
      return result
    }
  }
}

/// Quotes a string for a message, escaping control characters so a hostile name cannot fake output.
public func quoted(_ text: String) -> String { "\"" + escaped(text, quotes: true) + "\"" }

/// Control characters as `\n`, `\t`, `\x1b`; with `quotes`, `"` and `\` escaped too.
private func escaped(_ text: String, quotes: Bool) -> String {
  var result = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"" where quotes: result += "\\\""
    case "\\" where quotes: result += "\\\\"
    case "\n": result += "\\n"
    case "\t": result += "\\t"
    default:
      if scalar.value < 0x20 || scalar.value == 0x7f {
        result += "\\x" + String(scalar.value, radix: 16, uppercase: false).leftPadded(to: 2)
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
  }
  return result
}
