import SystemSupport
import Testing

@Suite struct OrderedJSONTests {
  @Test func parsingKeepsMemberOrderAndNumbersAsWritten() throws {
    let value = try OrderedJSON(parsing: #"{"b": 18446744073709551615, "a": [1.50, "x\u00e9"]}"#)
    #expect(
      value == .object([("b", .number("18446744073709551615")), ("a", .array([.number("1.50"), .string("xé")]))]))
    #expect(value.rendered() == #"{"b": 18446744073709551615, "a": [1.50, "x\u00e9"]}"#)
  }

  @Test(arguments: [
    ("[1,", "unexpected end at byte 3"), ("{} x", "trailing characters at byte 3"),
    (#"{"a" 1}"#, "expected : at byte 5"), ("[nul]", "expected null at byte 1"),
  ])
  func parseErrorsNameTheByte(_ text: String, _ reason: String) {
    #expect(throws: OrderedJSON.ParseError(reason: reason)) { try OrderedJSON(parsing: text) }
  }

  @Test func canonicalBytesKeepBuildOrderWithGoEscapes() {
    let value = OrderedJSON.object([
      ("b", .string("quote \" back \\ nl \n tab \t bell \u{07} é")), ("a", .integer(-3)),
      ("c", .array([.bool(true), .null])), ("d", .sorted(["z": "1", "m": "2"])),
    ])
    #expect(
      String(decoding: value.canonicalBytes, as: UTF8.self)
        == #"{"b":"quote \" back \\ nl \n tab \t bell \u0007 é","a":-3,"c":[true,null],"d":{"m":"2","z":"1"}}"#)
  }
}
