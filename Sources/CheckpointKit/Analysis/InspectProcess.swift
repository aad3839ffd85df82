import CRIU

/// One process of `inspect`'s process tree, with the details the options asked for.
public struct InspectedProcess: Equatable, Sendable {
  /// The process as `pstree.img` and its core image describe it.
  public var process: CheckpointProcess
  /// The command line read from memory (arguments joined by spaces), when asked for and readable.
  public var commandLine: String?
  /// The environment read from memory, sorted by name, when asked for.
  public var environment: [EnvironmentVariable]?
  /// Open files (`--files`): descriptors in fd order, then cwd and root.
  public var files: [OpenFile]?
  /// Open sockets (`--sockets`), in fd order.
  public var sockets: [OpenSocket]?
  /// Threads (`--threads`), main thread first as `pstree.img` lists them; `nil` for zombies.
  public var threads: [InspectedThread]?
  /// Memory mappings (`--mems`), in address order.
  public var memoryMaps: [MemoryMapping]?
  /// Child processes, sorted by pid (none for zombies).
  public var children: [InspectedProcess]

  /// The pid.
  public var pid: UInt32 { process.pid }

  /// The process and its descendants, parents first, children by pid.
  public var preorder: [InspectedProcess] { [self] + children.flatMap(\.preorder) }

  /// The process tree's roots (or only `options.pid`'s subtree), with the details `options` ask for.
  static func tree(of source: CheckpointSource, options: InspectOptions) throws -> [InspectedProcess] {
    let processes = try CheckpointError.inView("failed to get process tree") { try source.processes() }
    let pids = Set(processes.map(\.pid))
    var children: [UInt32: [CheckpointProcess]] = [:]
    for process in processes where pids.contains(process.ppid) && process.ppid != process.pid {
      children[process.ppid, default: []].append(process)
    }
    let roots: [CheckpointProcess]
    if let pid = options.pid {
      guard let process = processes.first(where: { $0.pid == pid }) else {
        throw MemoryAnalysisError.noSuchProcess(pid)
      }
      roots = [process]
    } else {
      roots = processes.filter { !pids.contains($0.ppid) || $0.ppid == $0.pid }
    }
    let details = try ProcessDetails(source: source, options: options)
    func build(_ process: CheckpointProcess) throws -> InspectedProcess {
      guard process.state.hasResources else {
        return InspectedProcess(process: process, children: [])
      }
      var node = try details.inspect(process)
      node.children = try (children[process.pid] ?? []).map(build)
      return node
    }
    return try roots.map(build)
  }
}

/// One environment variable of a process.
public struct EnvironmentVariable: Equatable, Sendable {
  /// The name (before the first `=`).
  public var name: String
  /// The value (after it); `nil` for an entry without `=`, which upstream rejects and this shows as it is.
  public var value: String?

  /// A variable.
  public init(name: String, value: String?) {
    self.name = name
    self.value = value
  }

  /// `NAME=value`, or the bare entry when it has no `=`.
  public var text: String { value.map { "\(name)=\($0)" } ?? name }
}

/// Reads the per-process details `inspect` shows.
struct ProcessDetails {
  let source: CheckpointSource
  let options: InspectOptions
  let files: FileTable?
  let maps: MemoryMaps?

  init(source: CheckpointSource, options: InspectOptions) throws {
    self.source = source
    self.options = options
    files =
      options.files || options.sockets
      ? try CheckpointError.inView(Self.filesContext(options)) { try FileTable(source: source) } : nil
    maps = options.memoryMaps ? try MemoryMaps(source: source) : nil
  }

  /// Upstream's phrase for a failure of `--files`, or of `--sockets` alone (which reads the same descriptors).
  static func filesContext(_ options: InspectOptions) -> String {
    options.files ? "failed to get file descriptors" : "failed to get sockets: failed to get file descriptors"
  }

  func inspect(_ process: CheckpointProcess) throws -> InspectedProcess {
    var node = InspectedProcess(process: process, children: [])
    if options.psTreeCmd {
      node.commandLine = try CheckpointError.inView("failed to process command line arguments") {
        Self.commandLine(try readArea(of: process.pid) { ($0.mmArgStart, $0.mmArgEnd) })
      }
    }
    if options.psTreeEnv {
      node.environment = try CheckpointError.inView("failed to process environment variables") {
        Self.environment(try readArea(of: process.pid) { ($0.mmEnvStart, $0.mmEnvEnd) })
      }
    }
    if options.threads {
      node.threads = try CheckpointError.inView("failed to get threads") {
        try InspectedThread.threads(of: process, in: source)
      }
    }
    if let maps {
      node.memoryMaps = try CheckpointError.inView("failed to get memory maps") {
        try MemoryMapping.mappings(of: process.pid, in: source, names: maps)
      }
    }
    if let files {
      try CheckpointError.inView(Self.filesContext(options)) {
        let descriptors = try files.descriptors(of: process.pid)
        if options.files { node.files = try files.openFiles(of: process.pid, descriptors: descriptors) }
        if options.sockets { node.sockets = files.sockets(descriptors) }
      }
    }
    return node
  }

  /// The bytes of a memory area whose bounds `mm-<pid>.img` gives (the argument or environment strings).
  func readArea(of pid: UInt32, bounds: (MmEntry) -> (UInt64, UInt64)) throws -> [UInt8] {
    let image = CRIUImage.mm(pid: pid)
    let mm = try source.image(image).messages(MmEntry.self).first ?? MmEntry()
    let (start, end) = bounds(mm)
    let memory = try source.memory(pid: pid)
    do {
      return try Self.read(memory, from: start, to: end)
    } catch let error as MemoryError {
      // The bounds come from the mm image: name it, since a hostile one points anywhere.
      throw CheckpointError.view(context: "\(source.displayPath):\(source.memberPath(image))", reason: "\(error)")
    }
  }

  /// Largest argument or environment area read (the kernel limits both far below this).
  static let areaLimit: UInt64 = 16 << 20

  static func read(_ memory: ProcessMemory, from start: UInt64, to end: UInt64) throws -> [UInt8] {
    guard end > start else { return [] }
    return try memory.read(address: start, count: Int(min(end - start, areaLimit)))
  }

  /// Arguments are NUL-terminated strings: joined by one space, with no trailing space.
  static func commandLine(_ bytes: [UInt8]) -> String {
    var arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    while arguments.last == "" { arguments.removeLast() }
    return arguments.joined(separator: " ")
  }

  /// `NAME=value` strings, NUL-terminated, sorted by name (stable for repeated names).
  static func environment(_ bytes: [UInt8]) -> [EnvironmentVariable] {
    let entries = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    let variables = entries.map { entry -> EnvironmentVariable in
      guard let equals = entry.firstIndex(of: "=") else { return EnvironmentVariable(name: entry, value: nil) }
      return EnvironmentVariable(
        name: String(entry[..<equals]), value: String(entry[entry.index(after: equals)...]))
    }
    return variables.enumerated().sorted { left, right in
      left.element.name != right.element.name ? left.element.name < right.element.name : left.offset < right.offset
    }.map(\.element)
  }
}
