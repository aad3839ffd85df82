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
}
