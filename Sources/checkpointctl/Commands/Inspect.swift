import ArgumentParser
import CheckpointKit

extension CheckpointCtl {
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "inspect",
      abstract: "Display information about a checkpoint",
      discussion: """
        For each container checkpoint (an archive of any compression, or an unpacked directory): its container, \
        sizes and, as asked, CRIU statistics, metadata, process tree with command lines, environments, open \
        files and sockets, and mounts; beyond upstream, threads, memory mappings, root file system changes \
        and CRIU's inventory and dump log. Annotations, environment variables and children are sorted.
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

    @Flag(help: "Show all information about the checkpoints")
    var all = false

    @Option(help: "Output format: tree or json")
    var format = "tree"

    @Argument(help: ArgumentHelp("Container checkpoint archives or directories", valueName: "checkpoint"))
    var inputs: [String]

    func validate() throws {
      guard format == "tree" || format == "json" else { throw ValidationError("invalid output format: \(format)") }
    }

    var options: InspectOptions {
      var options = all ? InspectOptions.all : InspectOptions()
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
      options.pid = pid
      return options
    }

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      registry.apply()
      let options = self.options
      if format == "json" {
        // One array of the readable checkpoints; unreadable ones are reported on stderr (exit 1).
        var reports: [InspectReport] = []
        var failure: Error?
        do {
          try forEachInput(inputs) { reports.append(try report($0, options)) }
        } catch {
          failure = error
        }
        if !reports.isEmpty { emit(InspectReport.json(reports) + "\n") }
        if let failure { throw failure }
      } else {
        try forEachInput(inputs) { input in emit(try report(input, options).treeText(path: input)) }
      }
    }

    /// Reads one checkpoint; what it leaves out (an unreadable network.status) is said on stderr.
    private func report(_ input: String, _ options: InspectOptions) throws -> InspectReport {
      let report = try InspectReport(path: input, options: options)
      for warning in report.warnings { emitError("Warning: \(singleLine(warning))\n") }
      return report
    }
  }
}
