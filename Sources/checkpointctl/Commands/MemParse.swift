import ArgumentParser
import CheckpointKit

extension CheckpointCtl {
  struct MemParse: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "memparse",
      abstract: "Analyze container checkpoint memory",
      discussion: """
        Without --pid: memory sizes of every process. With --pid: the process's pages in address order as a \
        hexdump (identical rows collapse to * on standard output) or, with --raw, the bytes themselves.
        """)

    @Option(name: [.customShort("p"), .long], help: "Process ID to dump")
    var pid: UInt32?

    @Option(
      name: [.customShort("o"), .long], help: ArgumentHelp("Write the full dump to a file (0600)", valueName: "file"))
    var output: String?

    @Flag(help: "Write the memory bytes themselves instead of a hexdump")
    var raw = false

    @Argument(help: ArgumentHelp("Checkpoint archives or directories", valueName: "checkpoint"))
    var inputs: [String]

    func validate() throws {
      if pid != nil && inputs.count > 1 { throw ValidationError("--pid takes exactly one checkpoint") }
      if pid == nil && (output != nil || raw) { throw ValidationError("--output and --raw need --pid") }
    }

    func run() throws {
      if let pid {
        try CheckpointKit.MemParse.dump(path: inputs[0], pid: pid, raw: raw, output: output, banner: emit)
        return
      }
      try forEachInput(inputs) { emit(try CheckpointKit.MemParse.table($0)) }
    }
  }
}

/// Runs `body` for every input; a failing input is reported by name and the others still run; exit 1 at the end.
func forEachInput(_ inputs: [String], _ body: (String) throws -> Void) throws {
  var failed = false
  for input in inputs {
    do {
      try body(input)
    } catch {
      emitError("Error: \(error)\n")
      failed = true
    }
  }
  if failed { throw ExitCode.failure }
}
