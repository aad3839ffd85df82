import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "Show information about available checkpoints",
      discussion: """
        With container checkpoints (archives of any compression, or unpacked directories) as arguments: a table \
        of their containers; a pod checkpoint (CRI-O's or containerd's KEP-5823 layout, or pod.options; a \
        directory or a tar of one) gives the pod's line, then a line per container. Without: the kubelet \
        checkpoint store in --target (its checkpointed.pods), the \
        kubelet's pod checkpoint store (a directory of checkpoint-<pod>_<namespace>-<time> pod checkpoints, as \
        /var/lib/kubelet/pod-checkpoints), or, when the directory holds only the kubelet API's checkpoint-* \
        archives, those archives' containers.
        """)

    @OptionGroup var target: TargetOptions

    @Flag(help: "Show Pod UID in output")
    var showPodUID = false

    @Option(help: "Output format: table or json")
    var format: OutputFormat<TableForm> = .human

    @Argument(
      help: ArgumentHelp("Container checkpoint archives or directories", valueName: "checkpoint"), completion: .file())
    var inputs: [String] = []

    func validate() throws {
      if !inputs.isEmpty && showPodUID {
        throw ValidationError("--show-pod-uid applies to the kubelet store, not to container checkpoints")
      }
    }

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      if !inputs.isEmpty {
        try showContainers(inputs)
        return
      }
      if let entries = try target.store.podCheckpoints() {
        try showPodStore(entries)
        return
      }
      if let archives = try CheckpointList.kubeletArchives(inStore: target.target) {
        guard !showPodUID else {
          throw ValidationError(
            "\(target.target) holds container checkpoints; --show-pod-uid applies to pod stores only")
        }
        try showContainers(archives)
        return
      }
      let inventory = try target.store.inventory()
      switch format {
      case .human: emit(StoreReport.table(inventory, showPodUID: showPodUID))
      case .json: emit(StoreReport.json(inventory))
      }
    }

    /// A pod checkpoint store's table; each unreadable pod checkpoint is reported by name, then exit 1.
    private func showPodStore(_ entries: [PodStoreEntry]) throws {
      emit(
        format == .json
          ? StoreReport.podJSON(entries, source: target.target)
          : StoreReport.podTable(entries, source: target.target, showPodUID: showPodUID))
      var failed = false
      for case .unreadable(let error) in entries.map(\.state) {
        emitError("Error: \(singleLine("\(error)"))\n")
        failed = true
      }
      if failed { throw ExitCode.failure }
    }

    /// Upstream's container table; each unreadable input is reported by name, then exit 1.
    private func showContainers(_ paths: [String]) throws {
      let report = ContainerShowReport(inputs: paths, registry: registry.options)
      for failure in report.failures { emitError("Error: \(singleLine("\(failure)"))\n") }
      emit(format == .json ? report.json : report.table)
      if !report.failures.isEmpty { throw ExitCode.failure }
    }
  }
}
