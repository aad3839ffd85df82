import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import OCI
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "build",
      abstract: "Create an OCI image from a checkpoint",
      discussion: """
        Packs a container checkpoint (an archive of any compression, or a directory) into an OCI image whose only \
        layer holds the checkpoint's files, annotated on its manifest and its index for containerd, CRI-O and \
        Podman. IMAGE is oci-archive:PATH[:TAG], oci:DIR[:TAG], docker://HOST[:PORT]/REPO[:TAG], or a bare name \
        (localhost/ckpt:latest) loaded into Podman's image store.
        """
    )

    @Argument(help: ArgumentHelp("The checkpoint archive or directory", valueName: "checkpoint"), completion: .file())
    var checkpoint: String

    @Argument(help: ArgumentHelp("Where the image goes", valueName: "image"))
    var image: String

    @Option(
      name: .customLong("annotation"), help: ArgumentHelp("Add or override an annotation", valueName: "key=value"))
    var annotations: [String] = []

    @Option(
      help: ArgumentHelp("Layer compression: gzip, zstd or none", valueName: "algorithm"),
      completion: .list(["gzip", "zstd", "none"]))
    var compression: String = "gzip"

    @OptionGroup var registry: RegistryFlags

    @Option(help: "Output format: table (upstream's lines) or json")
    var format: OutputFormat<TableForm> = .human

    func run() throws {
      let destination = try ImageReference(parsing: image)
      let extra = try annotations.map(CheckpointImageAnnotations.parse)
      let filter = try ArchiveFilter(name: compression)
      let built = try OCIImageBuilder.build(
        checkpoint: checkpoint, to: destination, compression: filter, annotations: extra, registry: registry.options,
        progress: .terminal)
      guard format == .human else { return emit(built.json(image: image)) }
      var lines = ""
      for key in built.annotations.keys.sorted() {
        lines += "Added annotation: \(key)=\(built.annotations[key] ?? "")\n"
      }
      emit(lines + built.indexDescriptor.digest.description + "\n")
    }
  }
}
