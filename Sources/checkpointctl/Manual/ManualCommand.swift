import FoundationEssentials
import SystemSupport

/// A command as swift-argument-parser describes it with `--experimental-dump-help` (the `ToolInfoV0` schema, the
/// fields a manual page needs): the same definitions `--help` is printed from.
public struct ManualCommand: Decodable, Sendable {
  /// The command's name (`show`).
  public var commandName: String
  /// One line: what it does.
  public var abstract: String?
  /// The longer description.
  public var discussion: String?
  /// False for hidden commands.
  public var shouldDisplay: Bool?
  /// Its flags, options and positional arguments, in `--help` order.
  public var arguments: [ManualArgument]?
  /// Its sub-commands.
  public var subcommands: [ManualCommand]?

  /// The visible sub-commands, without swift-argument-parser's own `help`.
  public var visibleSubcommands: [ManualCommand] {
    (subcommands ?? []).filter { $0.shouldDisplay != false && $0.commandName != "help" }
  }

  /// The visible arguments.
  public var visibleArguments: [ManualArgument] { (arguments ?? []).filter { $0.shouldDisplay != false } }

  /// The root command of a `--experimental-dump-help` document.
  public static func decode(dumpHelp json: String) throws -> ManualCommand {
    struct Document: Decodable { var command: ManualCommand }
    return try JSONDecoder().decode(Document.self, from: Data(json.utf8)).command
  }
}

/// A flag, option or positional argument of a `ManualCommand`.
public struct ManualArgument: Decodable, Sendable {
  /// `flag`, `option` or `positional`.
  public var kind: String
  /// False for hidden arguments.
  public var shouldDisplay: Bool?
  /// True when it may be given more than once.
  public var isRepeating: Bool?
  /// Its names (`-t`, `--target`); none for positional arguments.
  public var names: [Name]?
  /// The value's name in usage (`dir|archive`).
  public var valueName: String?
  /// The default value, as `--help` shows it.
  public var defaultValue: String?
  /// The values it accepts, when they are a fixed set.
  public var allValues: [String]?
  /// Its one-line help.
  public var abstract: String?
  /// Its longer help.
  public var discussion: String?

  /// One name of an argument.
  public struct Name: Decodable, Sendable {
    /// `short`, `long` or `longWithSingleDash`.
    public var kind: String
    /// The name without dashes.
    public var name: String

    /// The name as typed: `-t`, `--target`.
    public var spelled: String { (kind == "long" ? "--" : "-") + name }
  }

  /// True for positional arguments.
  public var isPositional: Bool { kind == "positional" }

  /// The help text as `--help` shows it: the abstract, then `(values: …; default: …)`.
  public var helpText: String {
    var notes: [String] = []
    if let allValues, !allValues.isEmpty { notes.append("values: " + allValues.joined(separator: ", ")) }
    if let defaultValue, !defaultValue.isEmpty { notes.append("default: " + defaultValue) }
    let text = abstract ?? ""
    guard !notes.isEmpty else { return text }
    return (text.isEmpty ? "" : text + " ") + "(" + notes.joined(separator: "; ") + ")"
  }
}
