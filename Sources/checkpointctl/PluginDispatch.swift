import ArgumentParser
import CheckpointKit
import Rendering

extension CheckpointCtl {
  /// The names `checkpointctl <name>` runs a built-in command for: every sub-command, its aliases, and `help`.
  static var builtinCommandNames: Set<String> {
    var names: Set<String> = ["help"]
    for command in configuration.subcommands {
      names.insert(command._commandName)
      names.formUnion(command.configuration.aliases)
    }
    return names
  }

  /// The plugins on this process's `PATH`.
  static func pluginCatalog() -> PluginCatalog {
    PluginCatalog.fromEnvironment(builtins: builtinCommandNames)
  }

  /// Replaces this process with the plugin `arguments[0]` names, if it names one (not a flag, not a built-in
  /// command); returns when it does not. Looks at one file name per `PATH` entry and runs no plugin otherwise.
  static func execPluginIfNamed(_ arguments: [String]) {
    guard let name = arguments.first, !name.hasPrefix("-"), !builtinCommandNames.contains(name),
      let plugin = pluginCatalog().plugin(named: name)
    else { return }
    exit(with: plugin.execute(arguments: Array(arguments.dropFirst())))
  }

  /// `help` with the `PLUGINS:` section added when it is the root command's help; other text as it is. Runs
  /// every plugin with `--plugin-description` only then.
  static func addingPlugins(to help: String) -> String {
    guard help == helpMessage() else { return help }
    let plugins = pluginCatalog().active()
    let descriptions = PluginDescription.query(plugins.map(\.path))
    return PluginListing.insert(PluginListing.helpSection(plugins, descriptions: descriptions), into: help)
  }
}
