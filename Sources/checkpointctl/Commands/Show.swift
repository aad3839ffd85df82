import ArgumentParser
import CheckpointKit

extension CheckpointCtl {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show information about available checkpoints")

    enum Format: String, ExpressibleByArgument, CaseIterable {
      case table, json
    }

    @OptionGroup var target: TargetOptions

    @Flag(help: "Show Pod UID in output")
    var showPodUID = false

    @Option(help: "Output format: table or json")
    var format: Format = .table

    func run() throws {
      let inventory = try target.store.inventory()
      switch format {
      case .table: emit(StoreReport.table(inventory, showPodUID: showPodUID))
      case .json: emit(StoreReport.json(inventory))
      }
    }
  }
}
