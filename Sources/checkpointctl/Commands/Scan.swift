import ArgumentParser
import CheckpointKit
import Rendering
import Scan
import SystemSupport

extension CheckpointCtl {
  struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "scan",
      abstract: "Look for signs of an intrusion: YARA rules and built-in indicators",
      discussion: """
        Reads each checkpoint once. With --rules, scans every process's memory with the YARA rules (libyara), \
        VMA by VMA (private pages, shared memory and memfds; each VMA one scan, addresses virtual), and the files \
        of rootfs-diff.tar, each one scan. The built-in indicators are always on: executable anonymous or memfd \
        memory (rwx flagged), deleted executables and mapped files, LD_PRELOAD, LD_LIBRARY_PATH and LD_AUDIT in \
        the environment, standard input, output or error on a socket, root with capabilities beyond the \
        container's, a parent outside the process tree (suspicious); listening sockets, connections and the bytes \
        queued in TCP connections (info). Exit status: 0 when nothing was found, 2 when a rule matched or a \
        suspicious finding was made, 1 on an error (before 2).
        """)

    @Option(
      name: .customLong("rules"),
      help: ArgumentHelp("YARA rule file, or a directory of *.yar and *.yara files (repeatable)", valueName: "path"),
      completion: .file())
    var rules: [String] = []

    @Option(name: [.customShort("p"), .long], help: "Only this process (no files)")
    var pid: UInt32?

    @Option(name: .customLong("max-matches"), help: "Matches of each rule shown at most, per checkpoint")
    var maxMatches: Int = 100

    @Option(help: "Output format: text or json")
    var format: OutputFormat<TextForm> = .human

    @Option(help: ArgumentHelp("Only this container of pod checkpoints", valueName: "name"))
    var container: String?

    @Argument(
      help: ArgumentHelp("Container or pod checkpoint archives or directories", valueName: "checkpoint"),
      completion: .file())
    var inputs: [String]

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func validate() throws {
      if maxMatches < 1 { throw ValidationError("--max-matches must be at least 1") }
    }

    func run() throws {
      let compiled = try rules.isEmpty ? nil : YaraRules(paths: rules)
      let options = ScanOptions(rules: compiled, pid: pid, matchLimit: maxMatches, registry: registry.options)
      var reports: [ScanReport] = []
      defer {
        if format == .json && !reports.isEmpty { emit(ScanReport.json(reports)) }
        for note in reports.flatMap(\.notes) { emitError("Note: \(note)\n") }
      }
      var pod = ""
      try forEachContainer(inputs, container: container, pod: { pod = $0.path }) { input, member in
        var report = try CheckpointScan.run(path: input, options: options)
        // A pod's container is named by the pod and its name, not by its archive's path inside the pod.
        if let member { report.source = "\(pod) (container \(quoted(member.name)))" }
        if format == .human { emit(report.text) }
        reports.append(report)
      }
      if reports.contains(where: \.alarms) { throw ExitCode(2) }
    }
  }
}
