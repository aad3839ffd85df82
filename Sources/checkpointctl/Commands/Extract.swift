import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import OCI
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "extract",
      abstract: "Extract all kubelet checkpoints",
      discussion: """
        Writes checkpointed.pods and every <SandboxID>.tar into one archive (mode 0600); -o - writes to standard \
        output. An image (docker://HOST[:PORT]/REPO[:TAG], oci-archive:PATH[:TAG] or oci:DIR[:TAG]) gets the same \
        members in its one layer, and its index digest is printed; nothing is tagged unless the whole image is there.
        """
    )

    @OptionGroup var target: TargetOptions

    @Option(
      name: [.customShort("o"), .long],
      help: ArgumentHelp(
        "Output archive (- for standard output), or an image: docker://…, oci-archive:…, oci:…",
        valueName: "file|image"),
      completion: .file())
    var output: String

    @Option(
      name: [.customShort("c"), .long],
      help: ArgumentHelp(
        "Compression algorithm: zstd, gzip, xz, bzip2 or none (default: from the output's extension, else zstd); "
          + "an image's layer takes zstd, gzip or none",
        valueName: "algorithm"),
      completion: .list(["zstd", "gzip", "xz", "bzip2", "none"]))
    var compress: String?

    @OptionGroup var registry: RegistryFlags

    func run() throws {
      let store = target.store
      let image = try KubeletStore.imageDestination(output)
      let compression =
        try compress.map(ArchiveFilter.init(name:)) ?? (image == nil ? ArchiveFilter(fileExtensionOf: output) : nil)
        ?? .zstd
      let banner = "\nExtracting checkpoint data from \(store.metadataPath)\n\n"
      output == "-" ? emitError(banner) : emit(banner)
      guard let image else {
        try store.extract(
          to: output == "-" ? .descriptor(standardOutput) : .file(output), compression: compression,
          progress: .terminal)
        return
      }
      let summary = try store.extract(
        toImage: image, compression: compression, registry: registry.options, progress: .terminal)
      emit((summary.image?.digest.description ?? "") + "\n")
    }
  }
}
