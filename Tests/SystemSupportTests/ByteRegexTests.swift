import SystemSupport
import Testing

/// `memparse --search-regex`'s engine: the C library's extended regular expressions over raw bytes, with the
/// shorthands users of Go's syntax type.
@Suite struct ByteRegexTests {
  static func matches(_ pattern: String, _ bytes: [UInt8]) throws -> [[UInt8]] {
    let regex = try ByteRegex(pattern)
    return bytes.withUnsafeBytes { buffer in regex.matches(in: buffer).map { Array(bytes[$0.0..<$0.0 + $0.1]) } }
  }

  @Test func bytesAfterNULAndNonASCIIAreSearched() throws {
    let memory: [UInt8] = [0, 0, 0xff] + Array("KEY_42=ab".utf8) + [0, 0x80] + Array("KEY_7=z".utf8) + [0]
    #expect(try Self.matches(#"KEY_\d+=[a-z]+"#, memory) == [Array("KEY_42=ab".utf8), Array("KEY_7=z".utf8)])
    #expect(try Self.matches(#"ab\x00\x80KEY"#, memory) == [Array("ab".utf8) + [0, 0x80] + Array("KEY".utf8)])
    #expect(try Self.matches(#"z\x00$"#, memory) == [Array("z".utf8) + [0]])
    #expect(try Self.matches("(?i)key_(?:7)", memory) == [Array("KEY_7".utf8)])
    #expect(try Self.matches(#"[\d]+="#, memory) == [Array("42=".utf8), Array("7=".utf8)])
    // `^` anchors at the start of the buffer only; `.` matches a newline.
    #expect(try Self.matches("^K", Array("K\nK".utf8)) == [Array("K".utf8)])
    #expect(try Self.matches("K.K", Array("K\nK".utf8)) == [Array("K\nK".utf8)])
  }

  @Test func invalidPatternsAreErrorsWithTheLibraryMessage() {
    #expect(throws: ByteRegexError.self) { try ByteRegex("([") }
    #expect(throws: ByteRegexError.self) { try ByteRegex("a{2,1}") }
  }
}
