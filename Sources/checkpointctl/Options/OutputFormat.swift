import ArgumentParser

/// A command's human-readable output form, named as `--format` takes it.
protocol HumanForm {
  static var name: String { get }
}

/// Upstream's tables (show, list, memparse, coredump, build).
enum TableForm: HumanForm {
  static let name = "table"
}

/// Upstream's trees (inspect, diff).
enum TreeForm: HumanForm {
  static let name = "tree"
}

/// `--format`: the command's human form or JSON. As an option's type, help and completion offer both values
/// (`values: table, json; default: table`).
enum OutputFormat<Human: HumanForm>: RawRepresentable, CaseIterable, ExpressibleByArgument {
  case human, json

  init?(rawValue: String) {
    switch rawValue {
    case Human.name: self = .human
    case "json": self = .json
    default: return nil
    }
  }

  var rawValue: String {
    switch self {
    case .human: Human.name
    case .json: "json"
    }
  }

  /// `text` as a format, for a `--format` declared as a plain string (inspect's and diff's, whose help lists no
  /// values): an unknown one is upstream's error.
  static func parse(_ text: String) throws -> Self {
    guard let format = Self(rawValue: text) else { throw ValidationError("invalid output format: \(text)") }
    return format
  }
}
