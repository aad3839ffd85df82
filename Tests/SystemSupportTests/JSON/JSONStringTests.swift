import SystemSupport
import Testing

/// The three ways this tool writes a JSON string.
@Suite struct JSONStringTests {
  static let text = "a\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}é\u{2028}😀"

  @Test func goStyleEscapesControlsAndLineSeparators() {
    #expect(JSONValue.quote(Self.text) == "\"a\\\"\\\\\\n\\r\\t\\u0008\\u000c\\u0001\u{7f}é\\u2028😀\"")
  }

  @Test func pythonStyleIsASCII() {
    #expect(
      OrderedJSON.quote(Self.text) == #""a\"\\\n\r\t\b\f\u0001\u007f\u00e9\u2028\ud83d\ude00""#)
  }

  @Test func canonicalStyleEscapesControlsOnly() {
    #expect(
      OrderedJSON.string(Self.text).canonicalBytes
        == Array("\"a\\\"\\\\\\n\\r\\t\\u0008\\u000c\\u0001\u{7f}é\u{2028}😀\"".utf8))
  }
}
