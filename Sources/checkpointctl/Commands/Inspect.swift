import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "inspect",
      abstract: "Display information about a checkpoint",
      discussion: """
        For each container checkpoint (an archive of any compression, or an unpacked directory): its container, \
        sizes and, as asked, CRIU statistics, metadata, process tree with command lines, environments, open \
        files and sockets, and mounts; beyond upstream, threads, memory mappings, root file system changes, \
        CRIU's inventory and dump log, the files of /dev/shm and of named volumes, and the end of the \
        container's log. Annotations, environment variables and children are sorted.
        """)

    @Flag(help: "Display checkpoint statistics")
    var stats = false

    @Flag(help: "Display an overview of mounts used in the checkpoint")
    var mounts = false

    @Option(name: [.customShort("p"), .long], help: "Display the process tree of a specific PID")
    var pid: UInt32?

    @Flag(name: .customLong("ps-tree"), help: "Display an overview of processes in the container checkpoint")
    var psTree = false

    @Flag(name: .customLong("ps-tree-cmd"), help: "Display an overview of processes with their full command line")
    var psTreeCmd = false

    @Flag(name: .customLong("ps-tree-env"), help: "Display an overview of processes with their environment variables")
    var psTreeEnv = false

    @Flag(help: "Display the open file descriptors of processes")
    var files = false

    @Flag(help: "Display the open sockets of processes")
    var sockets = false

    @Flag(help: "Display checkpoint metadata")
    var metadata = false

    @Flag(help: "Display the threads of processes (tid and name)")
    var threads = false

    @Flag(help: "Display the memory mappings of processes with their resident size")
    var mems = false

    @Flag(name: .customLong("rootfs-diff"), help: "Display the files changed and deleted in the root file system")
    var rootfsDiff = false

    @Flag(name: .customLong("dump-log"), help: "Display CRIU's image version, plugins and the end of dump.log")
    var dumpLog = false

    @Flag(help: "Display the end of the container log saved in the checkpoint")
    var log = false

    @Option(
      name: .customLong("log-lines"),
      help: ArgumentHelp(
        "How many lines of the container log to display (implies --log; default \(ContainerLog.defaultLines))",
        valueName: "n"))
    var logLines: Int?

    @Flag(help: "Display the files of /dev/shm saved in the checkpoint")
    var devshm = false

    @Flag(help: "Display the named volumes saved in the checkpoint and their files")
    var volumes = false

    @Flag(help: "Show all information about the checkpoints")
    var all = false

    @Option(help: "Output format: tree or json", completion: .list(OutputFormat<TreeForm>.allValueStrings))
    var format = "tree"

    /// `--format`, as `validate()` checked it (a plain string keeps the help without a value list).
    var outputFormat: OutputFormat<TreeForm> { OutputFormat(rawValue: format) ?? .human }

    @Option(help: ArgumentHelp("Only this container of pod checkpoints", valueName: "name"))
    var container: String?

    @Argument(
      help: ArgumentHelp("Container or pod checkpoint archives or directories", valueName: "checkpoint"),
      completion: .file())
    var inputs: [String]

    func validate() throws {
      _ = try OutputFormat<TreeForm>.parse(format)
      if let logLines, logLines < 0 {
        throw ValidationError("--log-lines must be 0 or more, not \(logLines)")
      }
    }

    /// The views named by their own flags (`--pid` names the process tree).
    var namedViews: Set<InspectView> {
      let flags: [(Bool, InspectView)] = [
        (stats, .stats), (psTree || pid != nil, .processTree), (psTreeCmd, .commandLines),
        (psTreeEnv, .environment), (files, .files), (sockets, .sockets), (threads, .threads), (mems, .memoryMaps),
        (rootfsDiff, .rootFSDiff), (dumpLog, .dumpLog), (log || logLines != nil, .log), (devshm, .devShm),
        (volumes, .volumes),
      ]
      return Set(flags.filter(\.0).map(\.1))
    }

    var options: InspectOptions {
      var options = all ? InspectOptions.all(explicitly: namedViews) : InspectOptions()
      options.stats = options.stats || stats
      options.mounts = options.mounts || mounts
      options.metadata = options.metadata || metadata
      options.psTree = psTree
      options.psTreeCmd = options.psTreeCmd || psTreeCmd
      options.psTreeEnv = options.psTreeEnv || psTreeEnv
      options.files = options.files || files
      options.sockets = options.sockets || sockets
      options.threads = options.threads || threads
      options.memoryMaps = options.memoryMaps || mems
      options.rootFSDiff = options.rootFSDiff || rootfsDiff
      options.dumpLog = options.dumpLog || dumpLog
      options.log = options.log || log || logLines != nil
      options.logLines = logLines ?? ContainerLog.defaultLines
      options.devShm = options.devShm || devshm
      options.volumes = options.volumes || volumes
      options.pid = pid
      options.readsBareImages = true
      options.registry = registry.options
      return options
    }

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      let options = self.options
      // Warnings and notes go after the output, so that the output's lines stay where upstream puts them.
      var remarks: [String] = []
      defer { for remark in remarks { emitError(singleLine(remark) + "\n") } }
      func report(_ input: String) throws -> InspectReport {
        let report = try InspectReport(path: input, options: options)
        remarks += report.warnings.map { "Warning: \($0)" } + report.notes.map { "Note: \($0)" }
        return report
      }
      guard outputFormat == .json else {
        try forEachInput(inputs, container: container, pod: { emit($0.treeText) }) { input in
          emit(try report(input).treeText(path: input))
        }
        return
      }
      // One array of the readable checkpoints; unreadable ones are reported on stderr (exit 1).
      var checkpoints: [InspectedCheckpoint] = []
      defer { if !checkpoints.isEmpty { emit(InspectedCheckpoint.json(checkpoints) + "\n") } }
      try forEachInput(inputs, container: container, pod: { checkpoints.append(.pod($0, [])) }) { input in
        InspectedCheckpoint.add(try report(input), of: input, to: &checkpoints)
      }
    }
  }
}
