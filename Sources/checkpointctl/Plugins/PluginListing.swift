import FoundationEssentials
import SystemSupport

/// The text `plugin list` and `--help` show for plugins.
public enum PluginListing {
  /// What upstream's `plugin list` prints for a plugin without a description.
  public static let noDescription = "(no description)"

  /// `plugin list`, upstream's layout: `No plugins found in PATH`, or `Available plugins:` then, for each plugin,
  /// `"  %-20s %s"` with its name and description and `"  %-20s %s"` with an empty name and its path. A shadowed
  /// plugin's path line says what shadows it.
  public static func list(_ plugins: [Plugin], descriptions: [String?]) -> String {
    guard !plugins.isEmpty else { return "No plugins found in PATH\n" }
    var text = "Available plugins:\n"
    for (plugin, description) in zip(plugins, descriptions) {
      var location = plugin.path
      switch plugin.shadowing {
      case .none: break
      case .builtin: location += " (shadowed by the built-in \(plugin.name) command)"
      case .earlierPlugin(let path): location += " (shadowed by \(path))"
      }
      text += "  \(padded(plugin.name, to: 20)) \(description ?? noDescription)\n"
      text += "  \(padded("", to: 20)) \(location)\n"
    }
    return text
  }

  /// The `PLUGINS:` section of the root help, laid out like swift-argument-parser's `SUBCOMMANDS:` (names from
  /// column 3, descriptions from column 27); empty when there are no plugins. A plugin without a description
  /// shows `Plugin provided by <path>` (upstream's phrase).
  public static func helpSection(_ plugins: [Plugin], descriptions: [String?]) -> String {
    guard !plugins.isEmpty else { return "" }
    var text = "PLUGINS:\n"
    for (plugin, description) in zip(plugins, descriptions) {
      let shown = description ?? PluginDescription.fallback(for: plugin)
      if plugin.name.unicodeScalars.count < 23 {
        text += "  \(padded(plugin.name, to: 22))  \(shown)\n"
      } else {
        text += "  \(plugin.name)\n\(padded("", to: 26))\(shown)\n"
      }
    }
    return text
  }

  /// `help` with `section` inserted before its closing `See '… help <subcommand>'` line (or at the end).
  public static func insert(_ section: String, into help: String) -> String {
    guard !section.isEmpty else { return help }
    if let range = help.ranges(of: "\n  See '").last {
      return help[..<range.lowerBound] + "\n" + section + help[range.lowerBound...]
    }
    return help + (help.hasSuffix("\n") ? "\n" : "\n\n") + section
  }

  /// `text` padded with spaces to `width` Unicode scalars (Go's `%-*s` counts runes).
  static func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.unicodeScalars.count))
  }
}
