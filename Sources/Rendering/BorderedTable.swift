import CheckpointKit

/// A table in the style of Go's tablewriter with row lines: `+---+` borders, upper-case centred headers, a rule
/// between rows, and merged cells (blank, with no rule above) where a cell continues the one above it.
public struct BorderedTable: Sendable {
  /// One cell.
  public struct Cell: Equatable, Sendable {
    /// The text (shown only when the cell does not continue the one above).
    public var text: String
    /// True when this cell is part of the cell above: printed blank, with no rule between them.
    public var continuesAbove: Bool

    /// A cell; `continuesAbove` merges it into the cell above.
    public init(_ text: String, continuesAbove: Bool = false) {
      self.text = text
      self.continuesAbove = continuesAbove
    }
  }

  /// Column titles (printed upper-case).
  public var headers: [String]
  /// Rows of cells, each as long as `headers`.
  public var rows: [[Cell]]

  /// A table with `headers` and `rows`.
  public init(headers: [String], rows: [[Cell]]) {
    self.headers = headers
    self.rows = rows
  }

  /// The table text, each line ending in a newline.
  public func render() -> String {
    let titles = headers.map { $0.uppercased() }
    var widths = titles.map(\.count)
    for row in rows {
      for (column, cell) in row.enumerated() where column < widths.count {
        widths[column] = max(widths[column], cell.text.count)
      }
    }
    let fullRule = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined()
    var lines = [fullRule]
    lines.append(
      "|" + zip(titles, widths).map { title, width in " " + centred(title, width) + " |" }.joined())
    lines.append(fullRule)
    for (index, row) in rows.enumerated() {
      lines.append(
        "|"
          + widths.indices.map { column in
            let cell = column < row.count ? row[column] : Cell("")
            return " " + aligned(cell.continuesAbove ? "" : cell.text, widths[column]) + " |"
          }.joined())
      guard index + 1 < rows.count else { continue }
      let next = rows[index + 1]
      lines.append(
        "+"
          + widths.indices.map { column in
            let merged = column < next.count && next[column].continuesAbove
            return String(repeating: merged ? " " : "-", count: widths[column] + 2) + "+"
          }.joined())
    }
    if !rows.isEmpty { lines.append(fullRule) }
    return lines.map { $0 + "\n" }.joined()
  }

  private func centred(_ text: String, _ width: Int) -> String {
    let space = width - text.count
    let left = space / 2
    return String(repeating: " ", count: left) + text + String(repeating: " ", count: space - left)
  }

  /// tablewriter's default alignment: numbers to the right, everything else to the left.
  private func aligned(_ text: String, _ width: Int) -> String {
    let pad = String(repeating: " ", count: max(0, width - text.count))
    return BorderedTable.isNumeric(text) ? pad + text : text + pad
  }

  /// Matches tablewriter's decimal pattern `^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$`.
  static func isNumeric(_ text: String) -> Bool {
    var rest = Substring(text)
    if rest.hasPrefix("-") { rest = rest.dropFirst() }
    let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let integer = parts.first, !integer.isEmpty else { return false }
    if parts.count == 2 && (parts[1].isEmpty || !parts[1].allSatisfy(\.isASCIIDigitCharacter)) { return false }
    if integer.allSatisfy(\.isASCIIDigitCharacter) { return true }
    let groups = integer.split(separator: ",", omittingEmptySubsequences: false)
    guard let head = groups.first, (1...3).contains(head.count), head.allSatisfy(\.isASCIIDigitCharacter) else {
      return false
    }
    return groups.dropFirst().allSatisfy { $0.count == 3 && $0.allSatisfy(\.isASCIIDigitCharacter) }
  }
}

extension Character {
  var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
