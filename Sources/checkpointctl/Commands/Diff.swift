import ArgumentParser
import CheckpointKit
import Rendering

extension CheckpointCtl {
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "diff",
      abstract: "Show changes between two container checkpoints (or two pod checkpoints, container by container)",
      discussion: """
        Compares two checkpoints of one container (archives of any compression, or directories): processes \
        (added, removed, modified: command line, environment, state, parent, threads), memory size, and as \
        asked open files, sockets, VMAs (--mems), page contents (--pages, with --hexdump the changed rows) \
        and the root file system (--rootfs). Every list is sorted. Two pod checkpoints are compared container \
        by container (matched by name; the added and removed ones are listed).
        """)

    @Option(help: "Output format: tree or json", completion: .list(OutputFormat<TreeForm>.allValueStrings))
    var format = "tree"

    /// `--format`, as `validate()` checked it (a plain string keeps the help without a value list).
    var outputFormat: OutputFormat<TreeForm> { OutputFormat(rawValue: format) ?? .human }

    @Flag(name: .customLong("ps-tree-cmd"), help: "Include full command lines in process tree diff")
    var psTreeCmd = false

    @Flag(name: .customLong("ps-tree-env"), help: "Include environment variables in process tree diff")
    var psTreeEnv = false

    @Flag(help: "Include file descriptors in the diff")
    var files = false

    @Flag(help: "Include sockets in the diff")
    var sockets = false

    @Flag(name: .customLong("show-unchanged"), help: "Show entries that are identical between the two checkpoints")
    var showUnchanged = false

    @Flag(help: "Compare each process's memory mappings (VMAs)")
    var mems = false

    @Flag(help: "Compare memory page contents, by address")
    var pages = false

    @Flag(help: "With --pages: print the changed 16-byte rows of both checkpoints")
    var hexdump = false

    @Flag(help: "Compare the root file system changes (rootfs-diff.tar, deleted.files)")
    var rootfs = false

    @Flag(help: "Every comparison")
    var all = false

    @Argument(help: ArgumentHelp("The two checkpoints", valueName: "checkpoint"), completion: .file())
    var inputs: [String] = []

    func validate() throws {
      guard inputs.count == 2 else { throw ValidationError("accepts 2 arg(s), received \(inputs.count)") }
      _ = try OutputFormat<TreeForm>.parse(format)
      if hexdump && !(pages || all) { throw ValidationError("--hexdump needs --pages") }
    }

    var options: CheckpointKit.CheckpointDiff.Options {
      var options = all ? CheckpointKit.CheckpointDiff.Options.all : .init()
      options.psTreeCmd = options.psTreeCmd || psTreeCmd
      options.psTreeEnv = options.psTreeEnv || psTreeEnv
      options.files = options.files || files
      options.sockets = options.sockets || sockets
      options.memoryMaps = options.memoryMaps || mems
      options.pages = options.pages || pages
      options.rootFS = options.rootFS || rootfs
      options.showUnchanged = showUnchanged
      // The JSON has no rows: only the tree needs them logged.
      options.hexdump = hexdump && outputFormat == .human
      options.registry = registry.options
      return options
    }

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      if PodCheckpoint.isPod(inputs[0]) || PodCheckpoint.isPod(inputs[1]) {
        let diff = try PodDiff(inputs[0], inputs[1])
        return outputFormat == .json
          ? emit(try diff.json(options: options)) : try diff.renderTree(options: options) { emit($0) }
      }
      let diff = try CheckpointKit.CheckpointDiff(inputs[0], inputs[1], options: options)
      if outputFormat == .json { emit(diff.json) } else { try diff.renderTree { emit($0) } }
    }
  }
}
