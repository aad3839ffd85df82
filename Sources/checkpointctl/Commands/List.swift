import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list",
      abstract: "List checkpoints stored in the default and additional directories",
      discussion: """
        Lists the kubelet API's checkpoint-* archives in each directory (not recursively), oldest first. The \
        time is config.dump's checkpointedTime, else the one in the file name. An unreadable archive is \
        reported on standard error and skipped.
        """)

    @Argument(
      help: ArgumentHelp(
        "Directories to search instead of \(CheckpointList.defaultDirectory)", valueName: "directory"),
      completion: .directory)
    var directories: [String] = []

    @Option(help: "Output format: table or json")
    var format: OutputFormat<TableForm> = .human

    func run() throws {
      let list = CheckpointList(directories: directories.isEmpty ? [CheckpointList.defaultDirectory] : directories)
      if format == .json {
        emit(list.json)
        // After the output (the table keeps upstream's order, which reports them before it).
        for failure in list.failures {
          emitError(singleLine("Error extracting information from \(failure.path): \(failure)") + "\n")
        }
        return
      }
      for part in list.output {
        switch part {
        case .standardOutput(let text): emit(text)
        case .standardError(let text): emitError(text)
        }
      }
    }
  }
}
