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
        members in its one layer, and its index digest is printed; nothing is tagged unless the whole image is there. \
        A pod checkpoint store (a directory of checkpoint-<pod>_<namespace>-<time> pod checkpoints, as \
        /var/lib/kubelet/pod-checkpoints) has its complete pod checkpoints written, each directory under its name \
        with its manifest last (--pod chooses them); an incomplete one is left out with a warning.
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

    @Option(
      name: .customLong("pod"),
      help: ArgumentHelp(
        "Of a pod checkpoint store, only the pod checkpoints of this pod (or of this name); repeatable",
        valueName: "name"))
    var pods: [String] = []

    @OptionGroup var registry: RegistryFlags

    func run() throws {
      let store = target.store
      let image = try KubeletStore.imageDestination(output)
      let compression =
        try compress.map(ArchiveFilter.init(name:)) ?? (image == nil ? ArchiveFilter(fileExtensionOf: output) : nil)
        ?? .zstd
      let banner = "\nExtracting checkpoint data from \(store.isPodStore ? store.target : store.metadataPath)\n\n"
      output == "-" ? emitError(banner) : emit(banner)
      let summary: KubeletStore.ExtractSummary
      if let image {
        summary = try store.extract(
          toImage: image, compression: compression, pods: pods, registry: registry.options, progress: .terminal)
        emit((summary.image?.digest.description ?? "") + "\n")
      } else {
        summary = try store.extract(
          to: output == "-" ? .descriptor(standardOutput) : .file(output), compression: compression, pods: pods,
          progress: .terminal)
      }
      for name in summary.skipped { emitError("Warning: \(name) is incomplete (it has no manifest): not extracted\n") }
    }
  }
}
