import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct MemParse: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "memparse",
      abstract: "Analyze container checkpoint memory",
      discussion: """
        Without --pid or a search: memory sizes of every process. With --pid: the process's pages in address \
        order as a hexdump (identical rows collapse to * on standard output) or, with --raw, the bytes \
        themselves. --search, --search-regex and --search-hex look through every process (or only --pid), \
        private and shared memory, on the raw bytes. --vma, --perm and --address narrow the memory looked at. \
        A pod checkpoint stands for each of its containers (--container NAME: one).
        """)

    @Option(name: [.customShort("p"), .long], help: "Process ID to dump or search")
    var pid: UInt32?

    @Option(
      name: [.customShort("o"), .long], help: ArgumentHelp("Write the full dump to a file (0600)", valueName: "file"),
      completion: .file())
    var output: String?

    @Flag(help: "Write the memory bytes themselves instead of a hexdump")
    var raw = false

    @Option(name: [.customShort("s"), .long], help: "Search for a string")
    var search: String?

    @Option(
      name: [.customShort("r"), .customLong("search-regex")], help: "Search for a regular expression (on raw bytes)")
    var searchRegex: String?

    @Option(name: .customLong("search-hex"), help: "Search for bytes given in hex (e.g. 4d454d or '4d 45 4d')")
    var searchHex: String?

    @Option(name: [.customShort("c"), .long], help: "Bytes of context on each side of a match")
    var context: Int = 0

    @Option(help: "Output format: table or json (sizes, search hits, or the dump as address/hex records)")
    var format: OutputFormat<TableForm> = .human

    @Option(
      name: .customLong("vma"), help: "Only these VMA kinds: heap, stack, anon, file, shared (comma-separated)",
      completion: .list(["heap", "stack", "anon", "file", "shared"]))
    var vmaKinds: [String] = []

    @Option(name: .customLong("perm"), help: "Only VMAs with these permissions (e.g. rw, x)")
    var permissions: String?

    @Option(name: .customLong("address"), help: "Only addresses in START-END (hex)")
    var addresses: String?

    @Option(help: ArgumentHelp("Only this container of pod checkpoints", valueName: "name"))
    var container: String?

    @Argument(
      help: ArgumentHelp("Container or pod checkpoint archives or directories", valueName: "checkpoint"),
      completion: .file())
    var inputs: [String]

    func validate() throws {
      let searches = [search, searchRegex, searchHex].compactMap { $0 }.count
      if searches > 1 { throw ValidationError("give only one of --search, --search-regex and --search-hex") }
      if context < 0 { throw ValidationError("context size cannot be negative") }
      if searches == 0 && pid != nil && inputs.count > 1 { throw ValidationError("--pid takes exactly one checkpoint") }
      if (searches > 0 || pid == nil) && (output != nil || raw) {
        throw ValidationError("--output and --raw need --pid")
      }
      if raw && format == .json { throw ValidationError("--raw writes bytes; it has no JSON form") }
    }

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      let filter = try MemoryFilter(kinds: vmaKinds, permissions: permissions, addresses: addresses)
      let registry = registry.options
      if let pattern = try searchPattern() {
        try forEachInput(inputs, container: container) { input in
          emit(
            try Rendering.MemParse.search(
              path: input, pattern: pattern, context: context, pid: pid, filter: filter, json: format == .json,
              registry: registry))
        }
      } else if let pid {
        try Rendering.MemParse.dump(
          path: PodCheckpoint.containerPath(inputs[0], container: container), pid: pid, raw: raw, output: output,
          filter: filter, json: format == .json,
          registry: registry, progress: .terminal, standardOutput: standardOutput, banner: emit)
      } else if format == .json {
        var tables: [JSONValue] = []
        defer { emit(Rendering.MemParse.json(tables)) }
        try forEachInput(inputs, container: container) {
          tables.append(try Rendering.MemParse.usage($0, registry: registry))
        }
      } else {
        try forEachInput(inputs, container: container) { emit(try Rendering.MemParse.table($0, registry: registry)) }
      }
    }

    func searchPattern() throws -> SearchPattern? {
      if let search { return try SearchPattern(string: search) }
      if let searchRegex { return try SearchPattern(regex: searchRegex) }
      if let searchHex { return try SearchPattern(hex: searchHex) }
      return nil
    }
  }
}

/// Runs `body` for every input; a failing input is reported by name and the others still run; exit 1 at the end.
///
/// A pod checkpoint names its containers' checkpoints (`container` selects one by name): `pod` is given the pod,
/// then `body` each container's checkpoint, each failure reported on its own.
func forEachInput(
  _ inputs: [String], container: String? = nil, pod: (PodCheckpoint) throws -> Void = { _ in },
  _ body: (String) throws -> Void
) throws {
  try forEachContainer(inputs, container: container, pod: pod) { path, _ in try body(path) }
}

/// ``forEachInput(_:container:pod:_:)``, giving `body` the pod's container too.
func forEachContainer(
  _ inputs: [String], container: String? = nil, pod: (PodCheckpoint) throws -> Void = { _ in },
  _ body: (String, PodCheckpoint.Container?) throws -> Void
) throws {
  var failed = false
  func attempt(_ work: () throws -> Void) {
    do {
      try work()
    } catch {
      emitError("Error: \(singleLine("\(error)"))\n")
      failed = true
    }
  }
  for input in inputs {
    attempt {
      guard PodCheckpoint.isPod(input) else {
        if container != nil { throw PodCheckpointError.notAPod(input) }
        return try body(input, nil)
      }
      let checkpoint = try PodCheckpoint(path: input)
      let selected = try checkpoint.containers(selecting: container)
      try pod(checkpoint)
      for member in selected { attempt { try body(checkpoint.checkedPath(of: member), member) } }
    }
  }
  if failed { throw ExitCode.failure }
}
