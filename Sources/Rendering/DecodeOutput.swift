import CheckpointKit

extension ImageDecoding.Output {
  /// What `decode` prints: the JSON as it is, or the listing as a plain table.
  public var text: String {
    switch self {
    case .text(let text): return text
    case .listing(let rows): return PlainTable.render(rows)
    }
  }
}
