import SystemSupport

/// A manual page in man(7) roff for one command: NAME, SYNOPSIS, DESCRIPTION, ARGUMENTS, OPTIONS, COMMANDS,
/// any extra sections, EXIT STATUS, EXAMPLES and SEE ALSO. The text comes from the command's definitions
/// (`ManualCommand`, the usage line `--help` prints); examples and exit statuses are given by the caller.
public struct ManualPage: Sendable {
  /// One example: what it does, and the command line.
  public struct Example: Sendable {
    /// What the example does, one sentence.
    public var description: String
    /// The command line, as typed.
    public var command: String

    /// Creates an example.
    public init(_ description: String, _ command: String) {
      self.description = description
      self.command = command
    }
  }

  /// A section of prose.
  public struct Section: Sendable {
    /// Its heading (`PLUGINS`).
    public var title: String
    /// Its text: paragraphs separated by blank lines.
    public var text: String

    /// Creates a section.
    public init(title: String, text: String) {
      self.title = title
      self.text = text
    }
  }

  /// The page name (`checkpointctl-show`).
  public var name: String
  /// The command's definitions.
  public var command: ManualCommand
  /// The usage line, as `--help` prints it after `USAGE:`.
  public var usage: String
  /// The sub-commands as pages, each with its abstract (for COMMANDS).
  public var commands: [(page: String, abstract: String)] = []
  /// Sections after COMMANDS.
  public var extraSections: [Section] = []
  /// Exit statuses and what they mean.
  public var exitStatus: [(status: String, meaning: String)] = []
  /// Examples.
  public var examples: [Example] = []
  /// Related pages (`checkpointctl`), all in section 1.
  public var seeAlso: [String] = []
  /// The program and version in the footer (`checkpointctl 0.1.0`).
  public var source: String

  /// Creates a page; fill in the sections after NAME through OPTIONS through the properties.
  public init(name: String, command: ManualCommand, usage: String, source: String) {
    self.name = name
    self.command = command
    self.usage = usage
    self.source = source
  }

  /// The page in roff, for `man -l`.
  public func rendered() -> String {
    var roff = Roff()
    roff.request("TH", Roff.literal(name.uppercased()), "1", "", source, "User Commands")
    // Left-aligned and unhyphenated: option values and file names stay whole.
    roff.request("nh")
    roff.request("ad", "l")
    roff.section("NAME")
    roff.line(Roff.literal(name) + " \\- " + Roff.text(command.abstract ?? ""))
    roff.section("SYNOPSIS")
    roff.synopsis(usage, commandName: name.replacingDashes())
    roff.section("DESCRIPTION")
    roff.paragraphs(command.discussion.flatMap { $0.isEmpty ? nil : $0 } ?? command.abstract ?? "")
    let arguments = command.visibleArguments
    let positionals = arguments.filter(\.isPositional)
    if !positionals.isEmpty {
      roff.section("ARGUMENTS")
      for argument in positionals { roff.item(argument) }
    }
    let options = arguments.filter { !$0.isPositional }
    if !options.isEmpty {
      roff.section("OPTIONS")
      for option in options { roff.item(option) }
    }
    if !commands.isEmpty {
      roff.section("COMMANDS")
      for (page, abstract) in commands {
        roff.request("TP")
        roff.request("BR", Roff.literal(page), "(1)")
        roff.line(Roff.text(abstract))
      }
    }
    for section in extraSections {
      roff.section(section.title)
      roff.paragraphs(section.text)
    }
    if !exitStatus.isEmpty {
      roff.section("EXIT STATUS")
      for (status, meaning) in exitStatus {
        roff.request("TP")
        roff.request("B", Roff.literal(status))
        roff.line(Roff.text(meaning))
      }
    }
    if !examples.isEmpty {
      roff.section("EXAMPLES")
      for (index, example) in examples.enumerated() {
        if index > 0 { roff.request("PP") }
        roff.line(Roff.text(example.description))
        roff.request("PP")
        roff.request("RS", "4")
        roff.request("nf")
        roff.line("$ " + Roff.literal(example.command))
        roff.request("fi")
        roff.request("RE")
      }
    }
    if !seeAlso.isEmpty {
      roff.section("SEE ALSO")
      for (index, page) in seeAlso.enumerated() {
        roff.request("BR", Roff.literal(page), index == seeAlso.count - 1 ? "(1)" : "(1),")
      }
    }
    return roff.text
  }
}

extension String {
  /// `checkpointctl-plugin-list` → `checkpointctl plugin list`.
  fileprivate func replacingDashes() -> String {
    String(map { $0 == "-" ? " " : $0 })
  }
}

/// Builds man(7) roff text with everything user-supplied escaped.
struct Roff {
  private(set) var text = ""

  /// A request line: `.NAME "arg" …` (arguments quoted, `"` inside them doubled).
  mutating func request(_ name: String, _ arguments: String...) {
    let quoted = arguments.map { argument in
      argument.isEmpty || argument.contains(" ") || argument.contains("\"")
        ? "\"" + argument.replacingAll("\"", with: "\"\"") + "\"" : argument
    }
    text += "." + ([name] + quoted).joined(separator: " ") + "\n"
  }

  /// A text line (already escaped); never empty, never starting with a control character.
  mutating func line(_ escaped: String) {
    guard !escaped.isEmpty else { return }
    text += (escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" : "") + escaped + "\n"
  }

  mutating func section(_ title: String) { request("SH", title) }

  /// Prose: paragraphs split at blank lines; a line that starts with white space starts a new output line.
  mutating func paragraphs(_ prose: String) {
    var first = true
    for paragraph in prose.split(separator: "\n\n", omittingEmptySubsequences: true) {
      if !first { request("PP") }
      first = false
      for (index, line) in paragraph.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty { continue }
        if index > 0 && trimmed.count != line.count { request("br") }
        self.line(Roff.text(String(trimmed)))
      }
    }
  }

  /// The usage line with the command name in bold, filled so that it wraps.
  mutating func synopsis(_ usage: String, commandName: String) {
    var rest = Substring(usage)
    if rest.hasPrefix(commandName) { rest = rest.dropFirst(commandName.count) }
    line("\\fB" + Roff.literal(commandName) + "\\fR" + Roff.literal(String(rest)))
  }

  /// An argument or option as a tagged paragraph: its names and value, then its help.
  mutating func item(_ argument: ManualArgument) {
    request("TP")
    let value = argument.valueName.map { "\\fI<" + Roff.literal($0) + ">\\fR" } ?? ""
    if argument.isPositional {
      line(value + (argument.isRepeating == true ? " ..." : ""))
    } else {
      let names = (argument.names ?? []).map { "\\fB" + Roff.literal($0.spelled) + "\\fR" }.joined(separator: ", ")
      line(names + (argument.kind == "option" && !value.isEmpty ? " " + value : ""))
    }
    line(Roff.text(argument.helpText))
    if let discussion = argument.discussion, !discussion.isEmpty {
      request("IP")
      paragraphs(discussion)
    }
  }

  /// Escapes prose: backslashes, and dashes as minus signs (so `--target` reads and pastes as typed).
  static func text(_ string: String) -> String {
    var result = ""
    for character in string {
      switch character {
      case "\\": result += "\\e"
      case "-": result += "\\-"
      default: result.append(character)
      }
    }
    return result
  }

  /// Escapes text meant to be typed (option names, commands): also quotes, backquotes, tildes and carets.
  static func literal(_ string: String) -> String {
    var result = ""
    for character in text(string) {
      switch character {
      case "'": result += "\\(aq"
      case "`": result += "\\(ga"
      case "~": result += "\\(ti"
      case "^": result += "\\(ha"
      default: result.append(character)
      }
    }
    return result
  }
}

extension String {
  fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
    var result = ""
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}
