import CheckpointKit
import Scan
import SystemSupport

/// `scan`'s outputs: the findings, each with its evidence, then the YARA matches; or JSON.
extension ScanReport {
  /// A heading line, each finding as a block, then the matches as a table.
  public var text: String {
    let suspicious = findings.filter { $0.severity == .suspicious }.count
    var lines = [
      "\(source): \(plural(findings.count, "finding")) (\(suspicious) suspicious, \(findings.count - suspicious) info), "
        + "\(plural(yara.count, "YARA match", "YARA matches"))"
    ]
    for finding in findings {
      lines.append("")
      lines.append(
        "[\(finding.severity.rawValue)] \(finding.kind.rawValue): pid \(finding.pid) (\(quoted(finding.process))), "
          + finding.images.joined(separator: ", "))
      lines.append("    " + singleLine(finding.detail))
      for evidence in finding.evidence {
        if let bytes = evidence.bytes {
          lines.append("    \(evidence.label):")
          lines += Self.hexRows(bytes, address: evidence.address ?? 0).map { "      " + $0 }
        } else {
          let at = evidence.address.map { " at " + Self.address($0) } ?? ""
          lines.append("    \(evidence.label)\(at): \(singleLine(evidence.text ?? ""))")
        }
      }
    }
    if !yara.isEmpty {
      lines.append("")
      let rows = yara.map { hit -> [String] in
        [
          hit.match.rule, hit.match.string, hit.pid.map(String.init) ?? "-", hit.process.map(quoted) ?? "-",
          hit.file == nil ? Self.address(hit.match.address) : "+0x" + String(hit.match.address, radix: 16),
          singleLine(hit.vma), hit.permissions.isEmpty ? "-" : hit.permissions, Self.shown(hit.match),
        ]
      }
      let header = ["RULE", "STRING", "PID", "PROCESS", "ADDRESS", "VMA", "PERM", "MATCH"]
      return lines.joined(separator: "\n") + "\n" + PlainTable.render([header] + rows)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `0x` and 16 hex digits.
  static func address(_ value: UInt64) -> String { "0x" + String(value, radix: 16).leftPadded(to: 16) }

  /// Hexdump rows of `bytes` starting at `address`.
  static func hexRows(_ bytes: [UInt8], address: UInt64) -> [String] {
    stride(from: 0, to: bytes.count, by: 16).map {
      HexDump.row(address: address + UInt64($0), bytes: Array(bytes[$0..<min($0 + 16, bytes.count)]))
    }
  }

  /// The matched bytes: quoted when all are printable, else in hex; `…` when libyara kept only the first ones.
  static func shown(_ match: YaraMatch) -> String {
    let more = match.data.count < match.length ? "…" : ""
    if !match.data.isEmpty, match.data.allSatisfy({ (0x20..<0x7F).contains($0) }) {
      return quoted(String(decoding: match.data, as: UTF8.self)) + more
    }
    return SearchReport.hex(match.data) + more
  }

  /// `{source, findings: [...], yara: [...], notes: [...]}`.
  public var json: String { jsonValue.formatted(keyOrder: Self.jsonKeys) + "\n" }

  /// One object per report in an array.
  public static func json(_ reports: [ScanReport]) -> String {
    reports.count == 1
      ? reports[0].json : JSONValue.array(reports.map(\.jsonValue)).formatted(keyOrder: jsonKeys) + "\n"
  }

  static let jsonKeys = [
    "source", "findings", "yara", "notes", "kind", "severity", "pid", "process", "file", "images", "detail",
    "evidence", "label", "text", "address", "hex", "rule", "tags", "string", "vma", "permissions", "length",
    "match_hex", "match_text",
  ]

  var jsonValue: JSONValue {
    .object([
      "source": .string(source),
      "findings": .array(findings.map(Self.json)),
      "yara": .array(yara.map(Self.json)),
      "notes": .array(notes.map(JSONValue.string)),
    ])
  }

  static func json(_ finding: Finding) -> JSONValue {
    .object([
      "kind": .string(finding.kind.rawValue), "severity": .string(finding.severity.rawValue),
      "pid": .integer(Int64(finding.pid)), "process": .string(finding.process),
      "images": .array(finding.images.map(JSONValue.string)), "detail": .string(finding.detail),
      "evidence": .array(
        finding.evidence.map { evidence in
          var object: [String: JSONValue] = ["label": .string(evidence.label)]
          if let text = evidence.text { object["text"] = .string(text) }
          if let at = evidence.address { object["address"] = .string(Self.address(at)) }
          if let bytes = evidence.bytes {
            object["hex"] = .string(SearchReport.hex(bytes))
            object["text"] = .string(SearchReport.printable(bytes))
          }
          return .object(object)
        }),
    ])
  }

  static func json(_ hit: YaraHit) -> JSONValue {
    .object([
      "pid": hit.pid.map { .integer(Int64($0)) } ?? .null, "process": hit.process.map(JSONValue.string) ?? .null,
      "file": hit.file.map(JSONValue.string) ?? .null, "rule": .string(hit.match.rule),
      "tags": .array(hit.match.tags.map(JSONValue.string)), "string": .string(hit.match.string),
      "address": .string(address(hit.match.address)), "vma": .string(hit.vma),
      "permissions": .string(hit.permissions), "length": .integer(Int64(hit.match.length)),
      "match_hex": .string(SearchReport.hex(hit.match.data)),
      "match_text": .string(SearchReport.printable(hit.match.data)),
    ])
  }
}

/// `1 finding`, `2 findings`.
private func plural(_ number: Int, _ noun: String, _ nouns: String? = nil) -> String {
  "\(number) \(number == 1 ? noun : nouns ?? noun + "s")"
}
