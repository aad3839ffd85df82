import ArgumentParser
import Rendering
import Verify

/// `verify`'s human output.
enum TextForm: HumanForm {
  static let name = "text"
}

extension CheckpointCtl {
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify",
      abstract: "Check that checkpoints are intact before a restore",
      discussion: """
        Reads each checkpoint once, to its end: archives of any compression, directories, checkpoint images \
        (blob digests and sizes), kubelet checkpoint stores (checkpointed.pods and each archive). Checks the \
        metadata's JSON, decodes every CRIU image, compares every pagemap with its pages file, and looks for \
        each process's images. Prints one line per problem, <checkpoint>: <member>: <what>, then one summary \
        line per checkpoint; exits 1 when any checkpoint has a problem.
        """)

    @Option(help: "Output format: text or json")
    var format: OutputFormat<TextForm> = .human

    @Argument(
      help: ArgumentHelp("Checkpoint archives, directories, images or kubelet stores", valueName: "checkpoint"),
      completion: .file())
    var checkpoints: [String]

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      let reports = Verifier.verify(checkpoints, options: VerifyOptions(registry: registry.options))
      switch format {
      case .human: emit(reports.map(\.text).joined())
      case .json: emit(VerifyReport.json(reports))
      }
      if reports.contains(where: { !$0.isIntact }) { throw ExitCode.failure }
    }
  }
}
