import ArgumentParser
import CheckpointKit

/// `--target/-t`: the kubelet checkpoint directory (or, for `show`, an extracted archive).
struct TargetOptions: ParsableArguments {
  @Option(
    name: [.customShort("t"), .long],
    help: ArgumentHelp(
      "Directory or archive which contains the Kubernetes checkpoints and metadata", valueName: "dir|archive"),
    completion: .file())
  var target: String = KubeletStore.defaultTarget

  var store: KubeletStore { KubeletStore(target: target) }
}
