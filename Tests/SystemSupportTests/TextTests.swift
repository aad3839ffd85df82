import SystemSupport
import Testing

@Suite struct TextTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]
    var printable: String
    var testDescription: String { printable }
  }

  @Test(arguments: [
    Case(bytes: Array("plain text, ünïcödé ✓ 🙂".utf8), printable: "plain text, ünïcödé ✓ 🙂"),
    Case(bytes: Array("tab\there\u{1B}[31mred\r\n".utf8), printable: "tab\\there\\x1b[31mred\\x0d\\n"),
    Case(bytes: [0x61, 0xFF, 0x62], printable: "a\\xffb"),
    // A sequence cut short, an overlong encoding, a surrogate and a byte past U+10FFFF.
    Case(bytes: [0xE2, 0x82, 0x41], printable: "\\xe2\\x82A"),
    Case(bytes: [0xC0, 0x80], printable: "\\xc0\\x80"),
    Case(bytes: [0xED, 0xA0, 0x80], printable: "\\xed\\xa0\\x80"),
    Case(bytes: [0xF5, 0x80, 0x80, 0x80], printable: "\\xf5\\x80\\x80\\x80"),
    Case(bytes: [0xE2, 0x82, 0xAC, 0x00, 0xC3], printable: "€\\x00\\xc3"),
  ])
  func printableLines(_ test: Case) {
    #expect(printableLine(test.bytes) == test.printable)
    #expect(!printableLine(test.bytes).contains { $0.isNewline })
  }
}
