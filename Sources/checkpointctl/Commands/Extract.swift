import ArgumentParser
import CheckpointKit

extension CheckpointCtl {
  struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "extract",
      abstract: "Extract all kubelet checkpoints",
      discussion:
        "Writes checkpointed.pods and every <SandboxID>.tar into one archive (mode 0600); -o - writes to standard output."
    )

    @OptionGroup var target: TargetOptions

    @Option(
      name: [.customShort("o"), .long], help: ArgumentHelp("Output archive (- for standard output)", valueName: "file"))
    var output: String

    @Option(
      name: [.customShort("c"), .long],
      help: ArgumentHelp(
        "Compression algorithm: zstd, gzip, xz, bzip2 or none (default: from the output's extension, else zstd)",
        valueName: "algorithm"))
    var compress: String?

    func run() throws {
      let compression = try compress.map(ArchiveFilter.init(name:)) ?? ArchiveFilter(fileExtensionOf: output) ?? .zstd
      let store = target.store
      let banner = "\nExtracting checkpoint data from \(store.metadataPath)\n\n"
      output == "-" ? emitError(banner) : emit(banner)
      try store.extract(to: output, compression: compression, showProgress: true)
    }
  }
}
