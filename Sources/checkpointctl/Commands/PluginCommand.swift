import ArgumentParser
import CheckpointKit
import Rendering

extension CheckpointCtl {
  struct Plugin: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plugin",
      abstract: "Manage checkpointctl plugins",
      discussion: """
        A plugin is an executable named checkpointctl-<name> on PATH; it runs as checkpointctl <name> with every \
        argument passed on unparsed, and replaces checkpointctl (its exit status is the command's). The first one \
        on PATH wins and built-in commands win over plugins. A plugin gives its one-line description when run \
        with --plugin-description and exit status 42; only plugin list and --help ask for it.
        """,
      subcommands: [ListPlugins.self]
    )

    struct ListPlugins: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List available plugins",
        discussion: """
          Lists every checkpointctl-<name> executable on PATH, in PATH order, with its description and path. \
          Plugins shadowed by a built-in command or by an earlier one on PATH are listed and marked as such.
          """)

      func run() throws {
        let plugins = CheckpointCtl.pluginCatalog().all()
        let descriptions = PluginDescription.query(plugins.map(\.path))
        emit(PluginListing.list(plugins, descriptions: descriptions))
      }
    }
  }
}
