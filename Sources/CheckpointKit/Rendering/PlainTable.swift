/// Columns separated by three spaces, padded to the widest cell (like Go's tabwriter with padding 3).
public enum PlainTable {
  /// The rows as text; the last column is not padded.
  public static func render(_ rows: [[String]]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
      }.joined() + "\n"
    }.joined()
  }
}
