import CRIU
import Dispatch
import FoundationEssentials
import OCI
import SystemSupport

/// `diff`: what changed between two checkpoints of the same container, upstream's comparisons (processes,
/// file descriptors, sockets, memory size) and, beyond them, VMAs, page contents and the root file system.
///
/// Every list is sorted (processes by pid, files by pid then fd, sockets by pid then addresses, memory by
/// address), so two runs print the same bytes.
public struct CheckpointDiff {
  /// What to compare beyond the process tree and the memory size.
  public struct Options: Equatable, Sendable {
    /// Compare command lines (a changed one marks the process modified).
    public var psTreeCmd = false
    /// How to reach a `docker://` checkpoint's registry.
    public var registry = RegistryOptions()
    /// Compare environments (upstream accepts the flag and ignores it).
    public var psTreeEnv = false
    /// Compare open file descriptors.
    public var files = false
    /// Compare open sockets.
    public var sockets = false
    /// Also list what did not change.
    public var showUnchanged = false
    /// Compare each process's VMAs.
    public var memoryMaps = false
    /// Compare page contents.
    public var pages = false
    /// With ``pages``: the changed 16-byte rows of both sides.
    public var hexdump = false
    /// Compare `rootfs-diff.tar` and `deleted.files`.
    public var rootFS = false

    /// Nothing beyond the process tree and memory size.
    public init() {}

    /// `--all`: every comparison (not ``showUnchanged`` or ``hexdump``, which only change how much is shown).
    public static var all: Options {
      var options = Options()
      options.psTreeCmd = true
      options.psTreeEnv = true
      options.files = true
      options.sockets = true
      options.memoryMaps = true
      options.pages = true
      options.rootFS = true
      return options
    }

    /// What `inspect` must read of each side.
    var inspectOptions: InspectOptions {
      var options = InspectOptions()
      options.psTree = true
      options.psTreeCmd = psTreeCmd
      options.psTreeEnv = psTreeEnv
      options.files = files
      options.sockets = sockets
      options.memoryMaps = memoryMaps
      return options
    }
  }

  /// One checkpoint as the diff shows it.
  public struct Side: Equatable, Sendable {
    /// The path as given.
    public var path: String
    /// When the checkpoint was made (see ``ContainerCheckpoint/checkpointTime``), RFC 3339; empty if unknown.
    public var created: String
    /// Bytes of the CRIU images (`checkpoint/`).
    public var totalSize: Int64
    /// Bytes of the memory pages (`checkpoint/pages-*`).
    public var pagesSize: Int64
  }

  /// A process as compared.
  public struct Process: Equatable, Sendable {
    public var pid: UInt32
    /// `comm`.
    public var command: String
    /// The command line read from memory (with `--ps-tree-cmd`).
    public var commandLine: String?
    public var state: String
    public var parent: UInt32
    /// Number of threads (0 for zombies, whose thread list CRIU fills with garbage).
    public var threads: Int
    /// The environment, sorted by name (with `--ps-tree-env`).
    public var environment: [EnvironmentVariable]?
    /// What changed, for a modified process: `field`, value in A, value in B.
    public var changes: [Change] = []
  }

  /// One difference of a modified process.
  public struct Change: Equatable, Sendable {
    /// `command`, `cmdline`, `state`, `parent`, `threads`, `environment`.
    public var field: String
    /// The value in A (nil: absent there, e.g. an added environment variable).
    public var before: String?
    /// The value in B (nil: absent there).
    public var after: String?
  }

  /// Processes by their fate.
  public struct ProcessChanges: Equatable, Sendable {
    public var added: [Process] = []
    public var removed: [Process] = []
    public var modified: [Process] = []
    public var unchanged: [Process] = []
  }

  /// An open file as compared: matched on pid, descriptor and what it shows.
  public struct File: Equatable, Hashable, Sendable {
    public var pid: UInt32
    /// `REG`, `PIPE`, …; empty for cwd and root.
    public var type: String
    /// The descriptor number, or `cwd` / `root`.
    public var descriptor: String
    /// What it is, as `inspect --files` shows it.
    public var path: String

    /// Upstream's `fd` value: `TYPE FD`, or `cwd` / `root`.
    public var fd: String { type.isEmpty ? descriptor : "\(type) \(descriptor)" }
  }

  /// Added, removed and unchanged entries.
  public struct Changes<Element: Equatable & Sendable>: Equatable, Sendable {
    public var added: [Element] = []
    public var removed: [Element] = []
    public var unchanged: [Element] = []
  }

  /// A socket as compared, with the pid that holds it.
  public struct Socket: Equatable, Sendable {
    public var pid: UInt32
    public var socket: OpenSocket
  }

  /// The container's ID, name and image (from A).
  public var containerID: String
  public var containerName: String
  public var image: String
  public var a: Side
  public var b: Side
  /// Processes (none on a side without `pstree.img`).
  public var processes: ProcessChanges
  /// The process tree of B, for `--show-unchanged`.
  public var treeB: [InspectedProcess]
  public var files: Changes<File>?
  public var sockets: Changes<Socket>?
  /// B's pages size minus A's.
  public var memoryChange: Int64 { b.pagesSize - a.pagesSize }
  /// VMAs per process (`--mems`).
  public var memoryMaps: [MemoryMapChanges]?
  /// Page contents per process (`--pages`).
  public var pages: [PageChanges]?
  /// The root file system (`--rootfs`).
  public var rootFS: RootFSChanges?
  /// What was asked.
  public var options: Options
  /// The differing rows of changed pages (`--pages --hexdump`), read by ``hexRows(of:_:)``.
  let rowLog: HexRowLog?
  /// The processes whose pages were compared while the checkpoints were decompressed (``PagePairing``).
  let comparedWhileReading: Set<UInt32>

  /// Compares two checkpoints (archives of any compression or directories), reading each once.
  public init(_ pathA: String, _ pathB: String, options: Options) throws {
    // The two inputs are read at the same time (decompressing one per core); A's error is reported first. With
    // --pages, the pages of compressed archives are compared as they are decompressed where both streams allow.
    let rows = options.pages && options.hexdump ? try HexRowLog.Writer() : nil
    let pairing = options.pages ? PagePairing(rows: rows) : nil
    func load(_ pairing: PagePairing?) throws -> (DiffInput, DiffInput) {
      let loadB = Loading { try DiffInput(path: pathB, options: options, pairing: pairing, side: .b) }
      let loadedA = Result { try DiffInput(path: pathA, options: options, pairing: pairing, side: .a) }
      let loadedB = loadB.wait()
      return (try loadedA.get(), try loadedB.get())
    }
    var (sideA, sideB) = try load(pairing)
    var compared: [UInt32: Result<PageChanges, Error>] = [:]
    if let pairing {
      if let trusted = pairing.results(streamed: [sideA.streamed, sideB.streamed]) {
        compared = trusted
      } else {
        // A stream was not to be trusted once its checkpoint was read whole (an archive out of name order):
        // both are read again, their pages kept as usual (a pipe cannot be read again).
        for path in [pathA, pathB] where !MemoryPass.canReadAgain(path) {
          throw DiffError.load(path: path, reason: "\(CheckpointError.outOfOrder(source: path, member: "pages"))")
        }
        (sideA, sideB) = try load(nil)
      }
    }
    let checkpointA = sideA.report.checkpoint
    let checkpointB = sideB.report.checkpoint
    guard checkpointA.id == checkpointB.id else {
      throw DiffError.differentContainers(
        a: "\(checkpointA.name) (\(checkpointA.id))", b: "\(checkpointB.name) (\(checkpointB.id))")
    }
    self.options = options
    containerID = checkpointA.id
    containerName = checkpointA.name
    image = checkpointA.image
    a = sideA.side
    b = sideB.side
    let treeA = sideA.report.processTree
    let treeB = sideB.report.processTree
    self.treeB = treeB ?? []
    // Checkpoints without pstree.img (metadata alone) have no processes: upstream compares them as equal.
    processes = Self.compareProcesses(treeA ?? [], self.treeB, options: options)
    let all = (treeA ?? []).flatMap(\.preorder)
    let allB = self.treeB.flatMap(\.preorder)
    if options.files { files = Self.compare(Self.files(all), Self.files(allB), key: \.sortKey) }
    if options.sockets {
      sockets = Self.compare(Self.sockets(all), Self.sockets(allB), key: \.key)
    }
    if options.memoryMaps { memoryMaps = MemoryMapChanges.compare(all, allB) }
    var rowLog: HexRowLog?
    if options.pages {
      pages = try PageChanges.compare(sideA, sideB, processes: processes, rows: rows, compared: compared)
      rowLog = try rows?.finish()
    }
    self.rowLog = rowLog
    comparedWhileReading = Set(compared.keys)
    if options.rootFS { rootFS = try RootFSChanges(sideA.source, sideB.source) }
  }

  static func processes(_ tree: [InspectedProcess], options: Options) -> [UInt32: Process] {
    var result: [UInt32: Process] = [:]
    for node in tree.flatMap(\.preorder) {
      let process = node.process
      result[process.pid] = Process(
        pid: process.pid, command: process.name, commandLine: options.psTreeCmd ? node.commandLine : nil,
        state: process.state.description, parent: process.ppid,
        threads: process.state.hasResources ? process.threads.count : 0,
        environment: options.psTreeEnv ? node.environment : nil)
    }
    return result
  }

  static func compareProcesses(_ a: [InspectedProcess], _ b: [InspectedProcess], options: Options)
    -> ProcessChanges
  {
    let before = processes(a, options: options)
    let after = processes(b, options: options)
    var result = ProcessChanges()
    for pid in Set(before.keys).union(after.keys).sorted() {
      switch (before[pid], after[pid]) {
      case (nil, let added?): result.added.append(added)
      case (let removed?, nil): result.removed.append(removed)
      case (let old?, var new?):
        new.changes = changes(from: old, to: new)
        if new.changes.isEmpty { result.unchanged.append(new) } else { result.modified.append(new) }
      case (nil, nil): break
      }
    }
    return result
  }

  /// What differs between two states of one process.
  static func changes(from old: Process, to new: Process) -> [Change] {
    var result: [Change] = []
    func compare(_ field: String, _ x: String?, _ y: String?) {
      if x != y { result.append(Change(field: field, before: x, after: y)) }
    }
    compare("command", old.command, new.command)
    compare("cmdline", old.commandLine, new.commandLine)
    compare("state", old.state, new.state)
    compare("parent", String(old.parent), String(new.parent))
    if old.threads != 0 && new.threads != 0 { compare("threads", String(old.threads), String(new.threads)) }
    if let before = old.environment, let after = new.environment {
      let x = Dictionary(before.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
      let y = Dictionary(after.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
      for name in Set(x.keys).union(y.keys).sorted() where x[name] != y[name] {
        result.append(
          Change(
            field: "environment", before: x[name].map { "\(name)=\($0)" }, after: y[name].map { "\(name)=\($0)" }))
      }
    }
    return result
  }

  static func files(_ processes: [InspectedProcess]) -> [File] {
    processes.flatMap { process in
      (process.files ?? []).map {
        File(pid: process.pid, type: $0.type, descriptor: $0.descriptor, path: $0.path)
      }
    }
  }

  static func sockets(_ processes: [InspectedProcess]) -> [Socket] {
    processes.flatMap { process in (process.sockets ?? []).map { Socket(pid: process.pid, socket: $0) } }
  }

  /// Added (only in B), removed (only in A) and unchanged entries, each list sorted.
  static func compare<Element, Key: Hashable & Comparable>(
    _ a: [Element], _ b: [Element], key: (Element) -> Key
  ) -> Changes<Element> {
    let keysA = Set(a.map(key))
    let keysB = Set(b.map(key))
    var result = Changes<Element>()
    result.added = b.filter { !keysA.contains(key($0)) }.sorted { key($0) < key($1) }
    result.removed = a.filter { !keysB.contains(key($0)) }.sorted { key($0) < key($1) }
    result.unchanged = b.filter { keysA.contains(key($0)) }.sorted { key($0) < key($1) }
    return result
  }
}

extension CheckpointDiff.File {
  /// Sorts by pid, then numeric descriptors in order, then `cwd` and `root`, then path.
  struct SortKey: Hashable, Comparable {
    var pid: UInt32
    var descriptor: Int
    var name: String
    var path: String

    static func < (x: SortKey, y: SortKey) -> Bool {
      (x.pid, x.descriptor, x.name, x.path) < (y.pid, y.descriptor, y.name, y.path)
    }
  }

  var sortKey: SortKey {
    SortKey(pid: pid, descriptor: Int(descriptor) ?? Int.max, name: descriptor + " " + type, path: path)
  }
}

extension CheckpointDiff.Socket {
  /// Matched as upstream matches them (pid, protocol, address, ports; not the state), and sorted that way.
  struct Key: Hashable, Comparable {
    var pid: UInt32
    var type: String
    var source: String
    var sourcePort: UInt32
    var address: String
    var destination: String
    var destinationPort: UInt32

    static func < (x: Key, y: Key) -> Bool {
      if x.pid != y.pid { return x.pid < y.pid }
      if x.type != y.type { return x.type < y.type }
      if x.source != y.source { return x.source < y.source }
      if x.sourcePort != y.sourcePort { return x.sourcePort < y.sourcePort }
      if x.address != y.address { return x.address < y.address }
      if x.destination != y.destination { return x.destination < y.destination }
      return x.destinationPort < y.destinationPort
    }
  }

  var key: Key {
    Key(
      pid: pid, type: socket.type + " " + socket.socketType, source: socket.source, sourcePort: socket.sourcePort,
      address: socket.address, destination: socket.destination, destinationPort: socket.destinationPort)
  }
}

/// Work started on another thread at once; ``wait()`` gives its result.
final class Loading<Value>: @unchecked Sendable {
  private var result: Result<Value, Error>?
  private let done = DispatchSemaphore(value: 0)

  /// Starts `body` on a thread of its own (it holds no lock and shares nothing until ``wait()``).
  init(_ body: @escaping @Sendable () throws -> Value) {
    BackgroundThread.start(stackSize: 8 << 20) { [self] in
      result = Result { try body() }
      done.signal()
    }
  }

  /// Waits for the work and returns its result.
  func wait() -> Result<Value, Error> {
    done.wait()
    return result ?? .failure(DiffError.load(path: "", reason: "the work did not finish"))
  }
}

/// One side of a diff, opened once: its metadata and process details, and the source that the page and root
/// file system comparisons read while the diff is made (the diff does not keep it).
struct DiffInput {
  let source: CheckpointSource
  let report: InspectReport
  let side: CheckpointDiff.Side
  /// The processes whose pages `pairing` took while the checkpoint was read (``MemoryPass/streamed``).
  let streamed: Set<UInt32>

  /// Reads `path`; with a `pairing` (`--pages`), as side `pairingSide` of it.
  init(path: String, options: CheckpointDiff.Options, pairing: PagePairing?, side pairingSide: PagePairing.Side) throws
  {
    var inspect = options.inspectOptions
    let wanted = inspect.selection
    let pages = options.pages
    let selection = CheckpointSource.Selection(
      memory: { name in
        wanted.memory(name) || (pages && MemorySelection.memory.memory(name))
          || (options.rootFS && name == RootFSDiff.deletedFilesName)
      },
      randomAccess: { name in
        wanted.randomAccess(name) || (pages && CheckpointLayout.isPages(name))
          || (options.rootFS && name == RootFSDiff.archiveName)
      },
      neededRanges: pages ? nil : wanted.neededRanges)
    do {
      if let pairing {
        do {
          let pass = try MemoryPass.run(
            path: path, selection: selection, registry: options.registry, keeping: wanted.neededRanges,
            wants: { pairing.offer(pairingSide, memory: $0, source: $1) },
            consume: { pairing.consume(pairingSide, memory: $0) })
          source = pass.source
          streamed = pass.streamed
          // The other side reads it on its own thread, with its own cache of decoded images (this thread goes on
          // inspecting `source`).
          pairing.finish(
            pairingSide, source: CheckpointSource(sharing: source, imagePrefix: source.imagePrefix), streamed: streamed)
        } catch {
          pairing.fail(pairingSide)
          throw error
        }
      } else {
        source = try CheckpointSource(path: path, selection: selection, registry: options.registry)
        streamed = []
      }
      // Upstream compares process trees only where pstree.img exists; metadata-only checkpoints compare too.
      if !source.contains(CRIUImage.pstree) {
        inspect = InspectOptions()
      }
      report = try InspectReport(source: source, options: inspect)
    } catch {
      throw DiffError.load(path: path, reason: "\(error)")
    }
    let checkpoint = report.checkpoint
    side = CheckpointDiff.Side(
      path: path, created: checkpoint.checkpointTime?.rfc3339 ?? "", totalSize: checkpoint.checkpointSize,
      pagesSize: checkpoint.pagesSize)
  }
}

/// Errors of `diff`.
public enum DiffError: Error, Equatable, CustomStringConvertible {
  /// The checkpoints' `config.dump` ids differ.
  case differentContainers(a: String, b: String)
  /// A checkpoint could not be read.
  case load(path: String, reason: String)

  public var description: String {
    switch self {
    case .differentContainers(let a, let b):
      return "checkpoints are from different containers: A: \(a), B: \(b)"
    case .load(let path, let reason):
      return reason.contains(path)
        ? "failed to load checkpoint: \(reason)" : "failed to load checkpoint \(path): \(reason)"
    }
  }
}
