import Glibc

/// A regular expression over raw bytes (each byte one character, NUL included): POSIX extended syntax as the C
/// library implements it (with GNU's `\w \W \s \S \b \B \< \>`), plus what users of Go's and ICU's syntax type
/// most: `\d` and `\D` (also inside brackets), `(?:…)` groups and a leading `(?i)`. Matches are leftmost-longest.
public final class ByteRegex: @unchecked Sendable {
  private let compiled: UnsafeMutablePointer<regex_t>

  /// Compiles `pattern`; the error is the C library's message (`Unmatched ( or \(`).
  public init(_ pattern: String) throws(ByteRegexError) {
    var flags = REG_EXTENDED
    var text = Substring(pattern)
    if text.hasPrefix("(?i)") {
      flags |= REG_ICASE
      text = text.dropFirst(4)
    }
    let expression = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
    let result = regcomp(expression, Self.translated(text), flags)
    guard result == 0 else {
      var message = [CChar](repeating: 0, count: 256)
      regerror(result, expression, &message, message.count)
      expression.deallocate()
      throw ByteRegexError(message: String(cString: message))
    }
    compiled = expression
  }

  deinit {
    regfree(compiled)
    compiled.deallocate()
  }

  /// Every non-overlapping match in `bytes` as (start, length), empty matches left out.
  public func matches(in bytes: UnsafeRawBufferPointer) -> [(Int, Int)] {
    guard let start = bytes.baseAddress, !bytes.isEmpty else { return [] }
    // `regexec` reads only the range it is given (REG_STARTEND), but what is handed to it should still be a C
    // string (checkers such as AddressSanitizer read it up to its NUL): memory nearly always holds a NUL byte;
    // a buffer without one is searched in a copy that ends with one.
    guard memchr(start, 0, bytes.count) != nil else {
      let terminated = Array(bytes) + [0]
      return terminated.withUnsafeBytes { copy in
        search(copy.baseAddress!.assumingMemoryBound(to: CChar.self), count: bytes.count)
      }
    }
    return search(start.assumingMemoryBound(to: CChar.self), count: bytes.count)
  }

  private func search(_ base: UnsafePointer<CChar>, count: Int) -> [(Int, Int)] {
    let bytes = UnsafeRawBufferPointer(start: base, count: count)
    var found: [(Int, Int)] = []
    var position = 0
    while position < bytes.count {
      var match = regmatch_t(rm_so: regoff_t(position), rm_eo: regoff_t(bytes.count))
      // REG_STARTEND: the range is given, NUL bytes are ordinary characters; REG_NOTBOL past the start.
      let flags = REG_STARTEND | (position > 0 ? REG_NOTBOL : 0)
      guard regexec(compiled, base, 1, &match, flags) == 0 else { break }
      let start = Int(match.rm_so)
      let end = Int(match.rm_eo)
      if end > start { found.append((start, end - start)) }
      position = max(end, start + 1)
    }
    return found
  }

  /// Go's and ICU's shorthands rewritten in POSIX terms, as the bytes `regcomp` reads (NUL-terminated): `\d`
  /// and `\D`, `(?:`, and the byte escapes `\xHH`, `\t`, `\n`, `\r`, `\0` (a NUL byte, which a C string cannot
  /// hold, is matched as "not any other byte").
  static func translated(_ pattern: Substring) -> [CChar] {
    let special = Array(".[]()*+?{}|^$\\".utf8)
    var result: [UInt8] = []
    var inBracket = false
    var bytes = Array(pattern.utf8)[...]
    func literal(_ byte: UInt8) {
      if byte == 0 {
        result += inBracket ? [] : Array("[^".utf8) + [1, UInt8(ascii: "-"), 0xff, UInt8(ascii: "]")]
      } else if !inBracket && special.contains(byte) {
        result += [UInt8(ascii: "\\"), byte]
      } else {
        result.append(byte)
      }
    }
    while let byte = bytes.popFirst() {
      if byte == UInt8(ascii: "\\"), let escaped = bytes.popFirst() {
        switch escaped {
        case UInt8(ascii: "d"): result += Array((inBracket ? "0-9" : "[0-9]").utf8)
        case UInt8(ascii: "D") where !inBracket: result += Array("[^0-9]".utf8)
        case UInt8(ascii: "t"): literal(0x09)
        case UInt8(ascii: "n"): literal(0x0a)
        case UInt8(ascii: "r"): literal(0x0d)
        case UInt8(ascii: "0"): literal(0)
        case UInt8(ascii: "x") where bytes.count >= 2:
          if let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
            bytes = bytes.dropFirst(2)
            literal(value)
          } else {
            result += [byte, escaped]
          }
        default: result += [byte, escaped]
        }
        continue
      }
      if !inBracket && byte == UInt8(ascii: "(") && bytes.starts(with: Array("?:".utf8)) {
        result.append(byte)
        bytes = bytes.dropFirst(2)
        continue
      }
      if byte == UInt8(ascii: "[") && !inBracket {
        inBracket = true
        result.append(byte)
        // A `]` first (after an optional `^`) is a member, not the end.
        if bytes.first == UInt8(ascii: "^") { result.append(bytes.removeFirst()) }
        if bytes.first == UInt8(ascii: "]") { result.append(bytes.removeFirst()) }
        continue
      }
      if byte == UInt8(ascii: "]") && inBracket { inBracket = false }
      result.append(byte)
    }
    return result.map { CChar(bitPattern: $0) } + [0]
  }
}

/// A pattern the C library's regular expressions refuse.
public struct ByteRegexError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
