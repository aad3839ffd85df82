import SystemSupport
import Testing

@Suite struct JSONValueTests {
  @Test func membersAreFoundAsGoFindsStructFields() throws {
    let object = try JSONValue(parsing: Array(#"{"Name": 1, "name": 2, "NAME": 3, "id": "x"}"#.utf8))
    // An exact match wins; else the first key, in sorted order, equal ignoring case.
    #expect(object.member("name") == .integer(2))
    #expect(object.member("nAmE") == .integer(3))
    #expect(object.member("ID")?.stringValue == "x")
    #expect(object.member("other") == nil)
    #expect(JSONValue.key("nAmE", in: object.objectValue ?? [:]) == "NAME")
    #expect(JSONValue.array([]).member("id") == nil)
  }

  @Test func formattedAsGoIndentsWithKnownKeysFirst() {
    let value = JSONValue.object([
      "z": .array([.integer(1), .number(18_446_744_073_709_551_616)]), "b": .object([:]), "a": .string("<\u{1}>"),
    ])
    #expect(
      value.formatted(keyOrder: ["z"]) == """
        {
          "z": [
            1,
            18446744073709552000
          ],
          "a": "<\\u0001>",
          "b": {}
        }
        """)
  }
}
