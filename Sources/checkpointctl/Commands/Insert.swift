import ArgumentParser
import CheckpointKit
import Rendering

extension CheckpointCtl {
  struct Insert: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "insert",
      abstract: "Insert an extracted kubelet checkpoint into a kubelet checkpoints directory",
      discussion: """
        Pods already present with identical metadata and archive are left alone; any other clash is an error and \
        leaves the target unchanged. The input is an archive written by extract or an image of one \
        (docker://HOST[:PORT]/REPO[:TAG], oci-archive:PATH[:TAG], oci:DIR[:TAG], or an OCI archive file or layout \
        directory); an image's layer is streamed and its digest checked before anything is committed. Pod \
        checkpoints (an extract of a pod checkpoint store) are each unpacked into a private temporary directory, \
        their manifest last, and renamed into place; one the target already has is an error.
        """)

    @OptionGroup var target: TargetOptions

    @Option(
      name: [.customShort("i"), .long],
      help: ArgumentHelp(
        "Archive written by extract, or an image: docker://…, oci-archive:…, oci:…", valueName: "file|image"),
      completion: .file())
    var input: String

    @OptionGroup var registry: RegistryFlags

    func run() throws {
      try target.store.insert(from: input, registry: registry.options)
    }
  }
}
