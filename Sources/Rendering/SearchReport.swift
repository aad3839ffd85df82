import Archive
import CRIU
import CheckpointKit
import SystemSupport

/// Renders memory search hits.
public enum SearchReport {
  /// Bytes as text, non-printable ones as `.`.
  public static func printable(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
  }

  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }

  /// A table: PID, PROCESS NAME, ADDRESS, VMA, MATCH (with context); or a line saying nothing matched.
  public static func table(_ hits: [MemoryHit], pattern: SearchPattern, pid: UInt32?) -> String {
    guard !hits.isEmpty else {
      return "No matches for pattern \(JSONValue.quote(pattern.text))"
        + (pid.map { " in the memory of PID \($0)" } ?? "")
        + "\n"
    }
    var rows = [["PID", "PROCESS NAME", "ADDRESS", "VMA", "MATCH"]]
    rows.append(rows[0].map { String(repeating: "-", count: $0.count) })
    for hit in hits {
      rows.append([
        String(hit.pid), hit.process, String(hit.address, radix: 16).leftPadded(to: 16),
        hit.vma + " " + hit.permissions, printable(hit.before + hit.match + hit.after),
      ])
    }
    return PlainTable.render(rows)
  }

  /// `{"source", "pattern", "hits": [{"pid", "process", "address", "vma", "permissions", "match", "match_hex",
  /// "before", "after"}]}`; text fields show non-printable bytes as `.`, `address` is hex.
  public static func json(_ hits: [MemoryHit], pattern: SearchPattern, source: String) -> String {
    let order = [
      "source", "pattern", "hits", "pid", "process", "address", "vma", "permissions", "match", "match_hex", "before",
      "after",
    ]
    let document = JSONValue.object([
      "source": .string(source),
      "pattern": .string(pattern.text),
      "hits": .array(
        hits.map { hit in
          .object([
            "pid": .integer(Int64(hit.pid)), "process": .string(hit.process),
            "address": .string("0x" + String(hit.address, radix: 16)), "vma": .string(hit.vma),
            "permissions": .string(hit.permissions), "match": .string(printable(hit.match)),
            "match_hex": .string(hex(hit.match)), "before": .string(printable(hit.before)),
            "after": .string(printable(hit.after)),
          ])
        }),
    ])
    return document.formatted(keyOrder: order) + "\n"
  }
}
