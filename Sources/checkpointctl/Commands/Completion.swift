import ArgumentParser

extension CheckpointCtl {
  struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "completion",
      abstract: "Generate the autocompletion script for the specified shell")

    enum Shell: String, ExpressibleByArgument, CaseIterable {
      case bash, zsh, fish
    }

    @Argument(help: "bash, zsh or fish")
    var shell: Shell

    func run() throws {
      let kind: CompletionShell =
        switch shell {
        case .bash: .bash
        case .zsh: .zsh
        case .fish: .fish
        }
      emit(CheckpointCtl.completionScript(for: kind))
    }
  }
}
