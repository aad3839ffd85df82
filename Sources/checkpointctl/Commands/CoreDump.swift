import ArgumentParser
import CheckpointKit
import CoreDump
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct CoreDump: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "coredump",
      abstract: "Write a gdb-loadable ELF core (core.<pid>) for the processes of a checkpoint",
      discussion: """
        One core per process (or per --pid), 0600, written under a temporary name and moved into place when \
        complete. Zombies have no memory and are skipped. Contents of mapped files come from rootfs-diff.tar, \
        then from --sysroot (the container's image, e.g. mounted) unless deleted.files lists them; without \
        them read-only file mappings are left to gdb (set sysroot) through NT_FILE. A pod checkpoint gives a \
        directory per container (--container NAME: one), named after it.
        """)

    @Option(name: [.customShort("p"), .long], help: "Process ID to dump (repeatable; default: every process)")
    var pid: [UInt32] = []

    @Option(
      name: [.customShort("o"), .long], help: ArgumentHelp("Directory for the cores", valueName: "dir"),
      completion: .directory)
    var output = "."

    @Option(
      help: ArgumentHelp("The container's root file system, for file-backed pages", valueName: "dir"),
      completion: .directory)
    var sysroot: String?

    @Flag(help: "Replace existing core.<pid> files")
    var force = false

    @Option(help: "Summary format: table or json")
    var format: OutputFormat<TableForm> = .human

    @Option(help: ArgumentHelp("Only this container of a pod checkpoint", valueName: "name"))
    var container: String?

    @Argument(
      help: ArgumentHelp("Container or pod checkpoint archive or directory", valueName: "checkpoint"),
      completion: .file())
    var checkpoint: String

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      var options = CoreDumpWriter.Options(pids: pid, outputDirectory: output, sysroot: sysroot, force: force)
      options.registry = registry.options
      var written: [CoreDumpWriter.Result] = []
      var skipped: [String] = []
      // Notes go after the output, so that the output's lines stay in place when both streams are merged.
      defer { for note in skipped { emitError("Note: \(note)\n") } }
      // A pod checkpoint: one directory per container, named after it.
      try forEachContainer([checkpoint], container: container) { path, member in
        var options = options
        if let member { options.outputDirectory = Path.join(output, member.name) }
        try CoreDumpWriter.write(
          checkpoint: path, options: options, note: { skipped.append($0) },
          wrote: { result in format == .json ? written.append(result) : emit(result.summary) })
      }
      if format == .json { emit(CoreDumpWriter.Result.json(written, skipped: skipped)) }
    }
  }
}
