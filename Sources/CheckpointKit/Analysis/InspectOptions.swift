import Archive
import CRIU
import OCI
import SystemSupport

/// A view of `inspect` that needs more than the container's metadata, named by its flag.
public enum InspectView: String, CaseIterable, Hashable, Sendable {
  case stats
  case processTree = "ps-tree"
  case commandLines = "ps-tree-cmd"
  case environment = "ps-tree-env"
  case files, sockets, threads
  case memoryMaps = "mems"
  case rootFSDiff = "rootfs-diff"
  case dumpLog = "dump-log"
  case log
  case devShm = "devshm"
  case volumes

  /// The views shown inside the process tree.
  static let processDetails: [InspectView] = [.commandLines, .environment, .files, .sockets, .threads, .memoryMaps]

  /// The flag that asks for it.
  public var flag: String { "--" + rawValue }
}

/// What `inspect` shows beyond the container's base facts.
public struct InspectOptions: Equatable, Sendable {
  /// CRIU dump statistics from `stats-dump`.
  public var stats = false
  /// The mounts of `spec.dump`.
  public var mounts = false
  /// Pod name, namespace and `spec.dump` annotations.
  public var metadata = false
  /// The process tree.
  public var psTree = false
  /// Each process's command line, read from its memory.
  public var psTreeCmd = false
  /// Each process's environment, read from its memory.
  public var psTreeEnv = false
  /// Each process's open files.
  public var files = false
  /// Each process's open sockets.
  public var sockets = false
  /// Each process's threads (`--threads`): tid and name.
  public var threads = false
  /// Each process's memory mappings with their resident size (`--mems`).
  public var memoryMaps = false
  /// The files of `rootfs-diff.tar` and the paths of `deleted.files` (`--rootfs-diff`).
  public var rootFSDiff = false
  /// CRIU's `inventory.img` facts and the end of `dump.log` (`--dump-log`).
  public var dumpLog = false
  /// The end of the container's log (`--log`), its last ``logLines`` lines.
  public var log = false
  /// How many lines of the container's log are shown (`--log-lines`).
  public var logLines = ContainerLog.defaultLines
  /// The files of `devshm-checkpoint.tar` (`--devshm`).
  public var devShm = false
  /// The tars of Podman's named volumes (`--volumes`).
  public var volumes = false
  /// Show only this process and its descendants.
  public var pid: UInt32?
  /// Views turned on by `--all` alone: one the checkpoint cannot give (its images are absent) is left out with
  /// a note instead of failing the command. A view asked for by its own flag is never in this set.
  public var optionalViews: Set<InspectView> = []
  /// How to reach a `docker://` checkpoint's registry.
  public var registry = RegistryOptions()
  /// Reads a bare CRIU image directory, or an archive of one, as well (`inspect` does; `diff` compares containers).
  public var readsBareImages = false

  /// Nothing beyond the base facts.
  public init() {}

  /// `--all` with the views named by their own flags (and `--pid`, which names the process tree): those fail when
  /// the checkpoint cannot give them, every other view is left out with a note.
  public static func all(explicitly named: Set<InspectView>) -> InspectOptions {
    var options = InspectOptions.all
    options.optionalViews = Set(InspectView.allCases).subtracting(named)
    // The tree cannot be left out under a detail that was asked for by name.
    if !named.isDisjoint(with: InspectView.processDetails) { options.optionalViews.remove(.processTree) }
    return options
  }

  /// Turns `view` on or off (the process tree with all its details).
  mutating func set(_ view: InspectView, _ on: Bool) {
    switch view {
    case .stats: stats = on
    case .processTree:
      psTree = on
      if !on { for detail in InspectView.processDetails { set(detail, false) } }
    case .commandLines: psTreeCmd = on
    case .environment: psTreeEnv = on
    case .files: files = on
    case .sockets: sockets = on
    case .threads: threads = on
    case .memoryMaps: memoryMaps = on
    case .rootFSDiff: rootFSDiff = on
    case .dumpLog: dumpLog = on
    case .log: log = on
    case .devShm: devShm = on
    case .volumes: volumes = on
    }
  }

  /// The process tree alone, with `detail` when given.
  func treeOnly(with detail: InspectView? = nil) -> InspectOptions {
    var options = self
    for view in InspectView.processDetails { options.set(view, false) }
    options.psTree = true
    if let detail { options.set(detail, true) }
    return options
  }

  /// True when `view` is on.
  func shows(_ view: InspectView) -> Bool {
    switch view {
    case .stats: return stats
    case .processTree: return showsProcessTree
    case .commandLines: return psTreeCmd
    case .environment: return psTreeEnv
    case .files: return files
    case .sockets: return sockets
    case .threads: return threads
    case .memoryMaps: return memoryMaps
    case .rootFSDiff: return rootFSDiff
    case .dumpLog: return dumpLog
    case .log: return log
    case .devShm: return devShm
    case .volumes: return volumes
    }
  }

  /// `--all`: everything but `--pid`, including the flags upstream does not have (threads, memory maps,
  /// root file system diff, CRIU log, container log, `/dev/shm`, volumes).
  public static var all: InspectOptions {
    var options = InspectOptions()
    options.stats = true
    options.mounts = true
    options.metadata = true
    options.psTreeCmd = true
    options.psTreeEnv = true
    options.files = true
    options.sockets = true
    options.threads = true
    options.memoryMaps = true
    options.rootFSDiff = true
    options.dumpLog = true
    options.log = true
    options.devShm = true
    options.volumes = true
    return options
  }

  /// True when the process tree is shown: asked for, or implied by a per-process flag or `--pid`.
  public var showsProcessTree: Bool {
    psTree || psTreeCmd || psTreeEnv || files || sockets || threads || memoryMaps || pid != nil
  }

  /// True when process memory is read (command lines or environments).
  var readsMemory: Bool { psTreeCmd || psTreeEnv }

  /// The members these options need: metadata always; images only for the flags that read them (`core-*` for
  /// threads, `mm-*`, `pagemap-*` and `files.img` for memory maps, `deleted.files` for the root file system
  /// diff, `dump.log` and `inventory.img` for the CRIU section); for random access, pages only when command
  /// lines or environments are read, and the members that can be large only for their views: `rootfs-diff.tar`,
  /// the container's log (in a compressed archive only its end is kept), `devshm-checkpoint.tar` and the volumes'
  /// tars.
  public var selection: CheckpointSource.Selection {
    let options = self
    return CheckpointSource.Selection(
      memory: { name in options.needsInMemory(name) },
      randomAccess: { name in
        (options.readsMemory && CheckpointLayout.isPages(name))
          || (options.rootFSDiff && name == RootFSDiff.archiveName)
          || (options.log && ContainerLog.names.contains(name))
          || (options.devShm && name == SavedDirectory.devShmName)
          || (options.volumes && SavedDirectory.volumeName(name) != nil)
      },
      neededRanges: options.readsMemory || options.log ? options.neededRanges : nil)
  }

  /// What is kept of a member read at random offsets as a compressed archive streams by: the log's end only (what
  /// the tail is read from, and the byte before it), the pages that hold command lines and environments.
  @Sendable func neededRanges(of name: String, size: Int64, kept: [String: [UInt8]]) throws -> [Range<Int64>]? {
    if log && ContainerLog.names.contains(name) { return [max(0, size - ContainerLog.tailLimit - 1)..<size] }
    return readsMemory ? try Self.argumentPages(of: name, size: size, kept: kept) : nil
  }

  /// The byte ranges of a `pages-<id>.img` that hold the command lines and environments of the process whose
  /// pagemap names it, when that pagemap and the process's mm were met before it in the archive (CRIU and
  /// Podman list them first); `nil` (keep the whole file) otherwise.
  @Sendable package static func argumentPages(of name: String, size _: Int64, kept: [String: [UInt8]]) throws
    -> [Range<Int64>]?
  {
    guard CheckpointLayout.isPages(name) else { return nil }
    let directory = Path.directory(of: name) == "." ? "" : Path.directory(of: name) + "/"
    let base = Path.base(of: name)
    guard case .pages(let id)? = CRIUImage(name: base) else { return nil }
    let pagemapPrefix = CRIUImage.Kind.pagemap.prefix!
    let shmemPrefix = CRIUImage.Kind.shmemPagemap.prefix!
    for (member, bytes) in kept where member.hasPrefix(directory + pagemapPrefix) && !member.contains(shmemPrefix) {
      // Only the head is read to find the owner; the whole pagemap is decoded once, for that pid.
      guard (try? PageMap.pagesID(ofImage: bytes)) == id, let map = try? PageMap(image: ImageFile(decoding: bytes))
      else { continue }
      guard case .pagemap(let pid)? = CRIUImage(name: Path.base(of: member)),
        let mmBytes = kept[directory + CRIUImage.mm(pid: pid).name],
        let mm = try ImageFile(decoding: mmBytes).messages(MmEntry.self).first
      else { return nil }
      let size = UInt64(map.pageSize)
      var ranges: [Range<Int64>] = []
      // Region by region, not page by page: the bounds come from the image and may span the address space.
      for (start, end) in [(mm.mmArgStart, mm.mmArgEnd), (mm.mmEnvStart, mm.mmEnvEnd)] where start < end {
        let first = start / size * size
        for region in map.regions {
          let regionEnd = region.end(pageSize: map.pageSize)
          guard let offset = region.fileOffset, region.address < end, regionEnd > first else { continue }
          // Whole pages of the region from the page holding `start` to the page holding `end - 1`.
          let lower = (max(first, region.address) - region.address) / size * size
          let upper = min((min(end, regionEnd) - region.address - 1) / size * size + size, regionEnd - region.address)
          ranges.append(offset + Int64(lower)..<offset + Int64(upper))
        }
      }
      return ranges
    }
    return nil
  }

  func needsInMemory(_ name: String) -> Bool {
    if name == ContainerConfig.fileName || name == SpecDump.fileName || name == InspectReport.networkStatus {
      return true
    }
    if name == InspectReport.statsDump || name == CheckpointLayout.imageDirectory + InspectReport.statsDump {
      return stats
    }
    if name == RootFSDiff.deletedFilesName { return rootFSDiff }
    if CRIUSummary.dumpLogNames.contains(name) { return dumpLog }
    // Images are under checkpoint/, or at the top of a bare CRIU image archive.
    let prefix = CheckpointLayout.imageDirectory
    let base: String
    if name.hasPrefix(prefix) {
      base = String(name.dropFirst(prefix.count))
    } else if !name.contains("/") {
      base = name
    } else {
      return false
    }
    if base == CRIUSummary.inventoryImage && dumpLog { return true }
    guard showsProcessTree else { return false }
    guard let kind = CRIUImage.Kind(of: base) else { return false }
    if kind.isOne(of: [.pstree, .core]) { return true }
    if files || sockets {
      if kind.isOne(of: [.files, .fdinfo, .ids]) { return true }
    }
    if files && kind.isOne(of: [.fs, .remapFilePath]) { return true }
    if memoryMaps {
      if kind.isOne(of: [.mm, .pagemap, .shmemPagemap, .files]) {
        return true
      }
    }
    if readsMemory {
      if kind.isOne(of: [.mm, .pagemap, .shmemPagemap, .files, .memfd]) {
        return true
      }
    }
    return false
  }
}
