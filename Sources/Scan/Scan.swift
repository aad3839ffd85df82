import Archive
import CRIU
import CheckpointKit
import OCI
import SystemSupport

/// What `scan` looks for.
public struct ScanOptions: Sendable {
  /// Compiled rules; `nil`: the built-in indicators alone.
  public var rules: YaraRules?
  /// Only this process (and no file of the checkpoint).
  public var pid: UInt32?
  /// Matches of each rule reported at most, per checkpoint.
  public var matchLimit: Int
  public var registry: RegistryOptions

  public init(
    rules: YaraRules? = nil, pid: UInt32? = nil, matchLimit: Int = 100, registry: RegistryOptions = RegistryOptions()
  ) {
    self.rules = rules
    self.pid = pid
    self.matchLimit = matchLimit
    self.registry = registry
  }
}

/// A YARA match in a process's memory or in a file of the checkpoint.
public struct YaraHit: Equatable, Sendable {
  /// The process, for a match in memory.
  public var pid: UInt32?
  public var process: String?
  /// The file (`/path` in `rootfs-diff.tar`), for a match in a file; `address` is then an offset in it.
  public var file: String?
  public var match: YaraMatch
  /// The VMA as `memparse` names it, or the file.
  public var vma: String
  /// The VMA's permissions (`r-xp`); empty for a file.
  public var permissions: String
}

/// What `scan` found in one checkpoint.
public struct ScanReport: Sendable {
  /// The checkpoint as the user named it.
  public var source: String
  public var findings: [Finding]
  public var yara: [YaraHit]
  /// What was left out and why (matches beyond the limit, rule warnings), for standard error after the output.
  public var notes: [String]

  /// True when a rule matched or a finding is `suspicious`: `scan` then exits 2.
  public var alarms: Bool { !yara.isEmpty || findings.contains { $0.severity == .suspicious } }
}

/// `scan`: YARA rules over every process's memory and the checkpoint's files, and the built-in indicators.
public enum CheckpointScan {
  /// Reads `path` once: the memory of each process scanned VMA by VMA as its pages are decompressed (see
  /// ``MemoryPass``), then the indicators, then the files of `rootfs-diff.tar`.
  public static func run(path: String, options: ScanOptions) throws -> ScanReport {
    let scanner = try options.rules.map { try YaraScanner(rules: $0, limit: options.matchLimit, processMemory: true) }
    var walks: [UInt32: Result<MemoryWalk, Error>] = [:]
    func walk(_ memory: ProcessMemory) -> Result<MemoryWalk, Error> {
      scanner?.startGroup()
      return Result {
        try MemoryWalk(
          memory, scanner: scanner, heads: Set(memory.vmas.filter(Indicators.isExecutableAnonymous).map(\.start)))
      }
    }
    let pass = try MemoryPass.run(
      path: path, selection: selection(rules: options.rules != nil), registry: options.registry,
      keeping: InspectOptions.argumentPages,
      wants: { memory, _ in options.pid == nil || memory.pid == options.pid },
      consume: { walks[$0.pid] = walk($0) })
    let source = pass.source
    let indicators = try CheckpointError.inView("failed to read the process tree") { try Indicators(source: source) }
    if let pid = options.pid, !indicators.processes.contains(where: { $0.pid == pid }) {
      throw MemoryAnalysisError.noSuchProcess(pid)
    }
    var hits: [YaraHit] = []
    var heads: [UInt32: [UInt64: (address: UInt64, bytes: [UInt8])]] = [:]
    for process in indicators.processes where options.pid == nil || process.pid == options.pid {
      guard process.state.hasResources, source.hasMemoryMap(pid: process.pid) else { continue }
      let result =
        pass.streamed.contains(process.pid)
        ? walks[process.pid]! : Result { try source.memory(pid: process.pid) }.flatMap(walk)
      // Without rules the memory is read for evidence only: what cannot be read is left out.
      guard let walk = scanner == nil ? try? result.get() : try result.get() else { continue }
      heads[process.pid] = walk.heads
      for (vma, match) in walk.matches {
        hits.append(
          YaraHit(
            pid: process.pid, process: process.name, file: nil, match: match,
            vma: indicators.maps?.name(of: vma) ?? "[anon]", permissions: MemoryMaps.permissions(vma)))
      }
    }
    let findings = try indicators.findings(pid: options.pid, heads: heads)
    if let scanner, options.pid == nil, source.contains(RootFSDiff.archiveName) {
      hits += try scanFiles(source, scanner: scanner)
    }
    var notes = options.rules?.warnings ?? []
    if let scanner {
      // Each process kept up to the limit of each rule, in whichever order the archive brought them: the matches
      // shown are the first in pid and address order, whatever the form of the checkpoint.
      var omitted = scanner.omitted
      var shown: [String: Int] = [:]
      hits = hits.filter { hit in
        shown[hit.match.rule, default: 0] += 1
        guard shown[hit.match.rule]! > options.matchLimit else { return true }
        omitted[hit.match.rule, default: 0] += 1
        return false
      }
      for (rule, count) in omitted.sorted(by: { $0.key < $1.key }) {
        notes.append(
          "\(source.displayPath): rule \(quoted(rule)): \(count) more matches not shown (at most \(options.matchLimit) a rule)"
        )
      }
      for string in scanner.saturated.sorted() {
        notes.append(
          "\(source.displayPath): string \(string) matched more than libyara's limit in one VMA or file: "
            + "the rest of it was not searched")
      }
    }
    return ScanReport(source: source.displayPath, findings: findings, yara: hits, notes: notes)
  }

  /// The members a scan reads: the images the indicators and the memory need, the pages, and with rules
  /// `rootfs-diff.tar`.
  static func selection(rules: Bool) -> CheckpointSource.Selection {
    let memory = MemorySelection.memory
    return CheckpointSource.Selection(
      memory: { name in
        let base = Path.base(of: name)
        return memory.memory(name) || CRIUImage.Kind(of: base)?.isOne(of: [.remapFilePath, .fdinfo, .ids]) == true
          || (base.hasPrefix(Indicators.queuePrefix) && base.hasSuffix(CRIUImage.suffix))
          || name == SpecDump.fileName || name == RootFSDiff.deletedFilesName
      },
      // Pages not streamed are kept whole: their memory is read afterwards.
      randomAccess: { name in memory.randomAccess(name) || (rules && name == RootFSDiff.archiveName) })
  }

  /// Scans each regular file of `rootfs-diff.tar` as one scan.
  static func scanFiles(_ source: CheckpointSource, scanner: YaraScanner) throws -> [YaraHit] {
    let reader = try ArchivedFile.reader(for: source, member: RootFSDiff.archiveName)
    scanner.startGroup()
    let blocks = OverlappingBlocks(capacity: MemoryWalk.chunk)
    var hits: [YaraHit] = []
    while let entry = try reader.next() {
      guard entry.kind == .regular, let name = entry.normalizedPath else { continue }
      let path = "/" + name
      blocks.restart(at: 0)
      let found = try scanner.scan(fileSize: UInt64(max(0, entry.size))) {
        try blocks.next(upTo: UInt64(MemoryWalk.chunk)) { buffer, _ in try reader.read(into: buffer) }
      }
      hits += found.map { YaraHit(pid: nil, process: nil, file: path, match: $0, vma: path, permissions: "") }
    }
    return hits
  }
}
