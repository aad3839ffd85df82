import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Glibc
import Rendering
import SystemSupport

extension CheckpointCtl {
  /// `make man`: writes checkpointctl(1) and one page per command, from the definitions `--help` is printed from
  /// (swift-argument-parser's command tree and usage lines). Hidden: not in help, completions or the pages.
  struct GenerateManual: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "generate-manual",
      abstract: "Write the manual pages (checkpointctl.1 and checkpointctl-<command>.1) into a directory",
      shouldDisplay: false)

    @Argument(help: ArgumentHelp("Directory to write the pages into (created if missing)", valueName: "directory"))
    var directory: String

    func run() throws {
      if mkdir(directory, 0o755) != 0 && errno != EEXIST {
        throw SystemError("cannot create", path: directory)
      }
      for page in try CheckpointCtl.manualPages() {
        let file = try AtomicFile(destination: Path.join(directory, page.name + ".1"))
        try file.descriptor.write(Array(page.rendered().utf8))
        try file.commit()
      }
    }
  }

  /// Every manual page: checkpointctl(1), then one per visible command, depth first.
  static func manualPages() throws -> [ManualPage] {
    let root = try ManualCommand.decode(dumpHelp: _dumpHelp())
    var pages: [ManualPage] = []
    addPages(for: root, type: CheckpointCtl.self, path: [], parentPage: nil, to: &pages)
    return pages
  }

  private static func addPages(
    for command: ManualCommand, type: ParsableCommand.Type, path: [String], parentPage: String?,
    to pages: inout [ManualPage]
  ) {
    let name = (["checkpointctl"] + path).joined(separator: "-")
    let usage = usageString(for: type).split(separator: "\n").joined(separator: " ")
    var page = ManualPage(name: name, command: command, usage: usage, source: "checkpointctl \(version)")
    let children: [(ManualCommand, ParsableCommand.Type)] = command.visibleSubcommands.compactMap { child in
      type.configuration.subcommands.first { $0._commandName == child.commandName }.map { (child, $0) }
    }
    page.commands = children.map { child, _ in
      (([name, child.commandName]).joined(separator: "-"), child.abstract ?? "")
    }
    if path.isEmpty {
      page.extraSections = [ManualPage.Section(title: "PLUGINS", text: Plugin.configuration.discussion)]
    }
    page.exitStatus = ManualExamples.exitStatus(isRoot: path.isEmpty, path: path)
    page.examples = ManualExamples.examples[path.joined(separator: " ")] ?? ManualExamples.fallback(for: path)
    page.seeAlso =
      ([parentPage ?? (path.isEmpty ? nil : "checkpointctl")].compactMap { $0 }
        + page.commands.map(\.page))
    pages.append(page)
    for (child, childType) in children {
      addPages(for: child, type: childType, path: path + [child.commandName], parentPage: name, to: &pages)
    }
  }
}
