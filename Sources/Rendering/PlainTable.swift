import CheckpointKit

/// Columns padded to the widest cell plus three spaces, at least `minimumWidth` wide (Go's tabwriter with
/// minwidth 6 and padding 3, as upstream checkpointctl prints its tables).
public enum PlainTable {
  /// The rows as text; the last column is not padded.
  public static func render(_ rows: [[String]], minimumWidth: Int = 6) -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1
          ? cell : cell + String(repeating: " ", count: max(widths[index] + 3, minimumWidth) - cell.count)
      }.joined() + "\n"
    }.joined()
  }
}
