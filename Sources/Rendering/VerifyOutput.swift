import SystemSupport
import Verify

/// `verify`'s outputs: one line per problem, `<checkpoint>: <member>: <what>` (`<checkpoint>: <what>` for the
/// checkpoint as a whole), then one summary line per checkpoint; or the reports as JSON.
extension VerifyReport {
  /// The problem lines and the summary line.
  public var text: String {
    var lines = problems.map(\.line)
    if isIntact {
      lines.append(
        "\(checkpoint): intact (\(count(members, "member")), \(count(images, "image")), \(count(pages, "page")))")
    } else {
      lines.append("\(checkpoint): \(count(problems.count, "problem"))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `[{checkpoint, kind, intact, members, images, pages, problems: [{checkpoint, member, problem}]}]`, one object
  /// per input in order; `member` is null for a problem of the checkpoint as a whole.
  public static func json(_ reports: [VerifyReport]) -> String {
    JSONValue.array(reports.map(\.jsonValue)).formatted(keyOrder: jsonKeys) + "\n"
  }

  static let jsonKeys = ["checkpoint", "kind", "intact", "members", "images", "pages", "problems", "member", "problem"]

  var jsonValue: JSONValue {
    .object([
      "checkpoint": .string(checkpoint), "kind": .string(kind), "intact": .bool(isIntact),
      "members": .integer(Int64(members)), "images": .integer(Int64(images)), "pages": .integer(pages),
      "problems": .array(
        problems.map {
          .object([
            "checkpoint": .string($0.checkpoint), "member": $0.member.map(JSONValue.string) ?? .null,
            "problem": .string($0.what),
          ])
        }),
    ])
  }
}

extension Problem {
  /// `<checkpoint>: <member>: <what>`, on one line.
  public var line: String {
    singleLine([checkpoint, member, what].compactMap { $0 }.joined(separator: ": "))
  }
}

/// `1 page`, `2 pages`.
private func count(_ number: some BinaryInteger, _ noun: String) -> String {
  "\(number) \(noun)\(number == 1 ? "" : "s")"
}
