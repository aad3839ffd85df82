import Rendering
import Testing

@Suite struct BorderedTableTests {
  @Test func mergesOnlyMarkedCellsAndRightAlignsNumbers() {
    let table = BorderedTable(
      headers: ["Pod", "Count"],
      rows: [
        [.init("a"), .init("42")],
        [.init("a", continuesAbove: true), .init("1,234.5")],
        [.init("b"), .init("x")],
      ])
    let expected = """
      +-----+---------+
      | POD |  COUNT  |
      +-----+---------+
      | a   |      42 |
      +     +---------+
      |     | 1,234.5 |
      +-----+---------+
      | b   | x       |
      +-----+---------+

      """
    #expect(table.render() == expected)
  }

  @Test func emptyTableIsHeaderOnly() {
    let expected = """
      +-----+
      | POD |
      +-----+

      """
    #expect(BorderedTable(headers: ["Pod"], rows: []).render() == expected)
  }
}
