import ArgumentParser
import CheckpointKit

extension CheckpointCtl {
  struct Insert: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "insert",
      abstract: "Insert an extracted kubelet checkpoint into a kubelet checkpoints directory",
      discussion: """
        Pods already present with identical metadata and archive are left alone; any other clash is an error and \
        leaves the target unchanged.
        """)

    @OptionGroup var target: TargetOptions

    @Option(name: [.customShort("i"), .long], help: ArgumentHelp("Archive written by extract", valueName: "file"))
    var input: String

    func run() throws {
      try target.store.insert(archive: input)
    }
  }
}
