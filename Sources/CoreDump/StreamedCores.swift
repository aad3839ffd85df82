import Archive
import CRIU
import CheckpointKit
import Glibc
import SystemSupport

/// Cores whose private pages are written while a compressed archive is decompressed, so the pages are
/// written once, straight into the core, instead of going to a temporary file first and being copied from it.
///
/// When the stream reaches `pages-<id>.img`, the images before it (Podman and CRI-O put `mm-<pid>.img` and
/// `pagemap-<pid>.img` before the pages) usually say where every page of the one process that owns the file goes
/// in its core. The core is then started under its temporary name and each page lands at its offset (pages of
/// zeros stay holes). Pages no segment holds go to a private temporary file, so the member stays readable.
/// When they do not (the pagemap comes later, several pagemaps name the file, `--pid` leaves the process out,
/// the core exists), the member is spilled to the private temporary file as for any command.
///
/// Once every member is read, the core's real plan decides: if its pages are where the stream put them, the
/// core is finished in that file (headers, notes, mapped files' bytes and PE_PARENT pages around them); if not
/// (a later member such as `rootfs-diff.tar` changed the layout), the core is written as usual, reading the
/// pages back from where the stream put them. Every way gives the same bytes.
final class StreamedCores {
  private let options: CoreDumpWriter.Options
  private let pageSize: Int
  /// Used on the thread that reads the archive only.
  private var cores: [UInt32: StreamedCore] = [:]
  /// Every core started (taken or not), so that a failure can remove their temporary files.
  private var started: [StreamedCore] = []
  /// The directories made for the output, parents first.
  private(set) var createdDirectories: [String] = []
  /// Which process each pages file belongs to.
  private let owners = PagesOwners()
  /// `files.img`'s regular files, decoded once.
  private var files: [UInt64: RegFileEntry]?
  private let trace: CoreDumpWriter.Trace?

  init(options: CoreDumpWriter.Options, pageSize: Int, trace: CoreDumpWriter.Trace? = nil) {
    self.options = options
    self.pageSize = pageSize
    self.trace = trace
  }

  /// A core to stream `member` into (for ``CheckpointSource/Loader/take(with:)``), or `nil` to let the source keep
  /// it; `source` is the checkpoint read so far (``CheckpointSource/Loader/sourceSoFar``).
  func receiver(member: String, source: CheckpointSource) -> StreamedCore? {
    // Exactly one process's pagemap, and no shared-memory object's, names this pages file.
    guard let pid = owners.owner(of: member, in: source), cores[pid] == nil,
      options.pids.isEmpty || options.pids.contains(pid), source.hasMemoryMap(pid: pid)
    else { return nil }
    // Any doubt (a bad image, an existing core, a file that cannot be created) leaves the member to the usual
    // way, which reports the error if there is one.
    let directory = options.outputDirectory
    let destination = Path.join(directory, "core.\(pid)")
    let file: AtomicFile
    let runs: [CorePlan.PageRun]
    do {
      guard try options.force || Path.linkStatus(destination) == nil,
        let planned = try plannedRuns(pid: pid, source: source), !planned.isEmpty
      else { return nil }
      runs = planned
      if try Path.status(directory) == nil { createdDirectories += try Path.makeDirectories(directory) }
      file = try AtomicFile(destination: destination)
    } catch {
      return nil
    }
    let core = StreamedCore(
      file: file, source: source.displayPath, member: member, runs: runs, pageSize: pageSize)
    cores[pid] = core
    started.append(core)
    trace?.started.append(pid)
    return core
  }

  /// Where the private pages of `pid` go, laid out from the images read so far (the final layout, made once every
  /// member is read, may differ: ``take(for:source:)`` compares the two).
  private func plannedRuns(pid: UInt32, source: CheckpointSource) throws -> [CorePlan.PageRun]? {
    // Decoded once it is there: the stream may not have reached it yet.
    if files == nil && source.contains(CRIUImage.files) { files = try source.regularFiles() }
    let files = self.files ?? [:]
    let vmas = try source.memoryMap(pid: pid).vmas
    let wanted = Set(CorePlan.mappedFiles(vmas, files: files).values.map(\.name))
    let fileSources = try CoreFileSources(source: source, sysroot: options.sysroot, wanted: wanted)
    return try CorePlan.layout(
      pid: pid, source: source, files: files, fileSources: fileSources, pageSize: pageSize
    ).pageRuns
  }

  /// True when the stream started a core for `pid`.
  func hasCore(pid: UInt32) -> Bool { cores[pid] != nil }

  /// After a failure: removes the temporary file of every core started and not committed.
  func discardUncommitted() {
    for core in started { core.file.discard() }
  }

  /// The streamed core of `plan`'s process, if its pages are where `plan` wants them; it is handed out once.
  func take(for plan: CorePlan, source: CheckpointSource) -> StreamedCore? {
    // A member after the pages (`rootfs-diff.tar` holding a mapped file) can move the segments.
    guard let core = cores.removeValue(forKey: plan.process.pid),
      let map = plan.memory.privateMemory?.pageMap,
      core.member == source.memberPath(.pages(id: map.pagesID)),
      core.runs == plan.layout.pageRuns
    else { return nil }
    // The archive may hold the pages member twice: the core holds the first copy, the source reads the last.
    guard source.isReceived(core.member, by: core) else { return nil }
    return core
  }
}

/// A core started while its process's pages file is decompressed: the pages are written at their offsets in
/// the core's temporary file. It also serves reads of the pages file (from the core, or from a private
/// temporary file for the pages no segment holds) until the core is committed.
final class StreamedCore: MemberReceiver, RandomAccessBytes {
  /// The core's temporary file.
  let file: AtomicFile
  /// The checkpoint and the pages member, for messages.
  let source: String
  let member: String
  /// Runs of the pages file in the core, sorted by pages offset, page-aligned.
  let runs: [CorePlan.PageRun]
  let pageSize: Int
  private(set) var size: Int64 = 0
  /// Pages no run holds, at their own offsets (holes elsewhere); created when the first such page comes.
  private var rest: FileDescriptor?
  private var isCommitted = false

  init(file: AtomicFile, source: String, member: String, runs: [CorePlan.PageRun], pageSize: Int) {
    self.file = file
    self.source = source
    self.member = member
    self.runs = runs
    self.pageSize = pageSize
  }

  /// Address ranges of the core's memory already written.
  var placedRanges: [Range<UInt64>] {
    runs.map { $0.address..<$0.address + $0.length }.sorted { $0.lowerBound < $1.lowerBound }
  }

  func receive(from reader: ArchiveReader) throws -> (bytes: RandomAccessBytes, size: Int64) {
    let placer = PagePlacer(core: file.descriptor, runs: runs, pageSize: pageSize)
    // Decompressing (this thread) and writing (the writer thread) overlap; buffers are filled whole, so each
    // starts at a multiple of 1 MiB of the pages file and pages never straddle two of them.
    let writer = BackgroundWriter(consume: { try placer.place($0) })
    let total: Int64
    do {
      total = try writer.append { buffer in
        var filled = 0
        while filled < buffer.count {
          let n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
          if n == 0 { break }
          filled += n
        }
        return filled
      }
    } catch {
      try? writer.finish()
      throw error
    }
    try writer.finish()
    rest = placer.rest
    size = total
    return (self, total)
  }

  /// Syncs the finished core and moves it into place; the pages can no longer be read through it.
  func commit(replace: Bool) throws {
    isCommitted = true
    try file.commit(replace: replace)
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    guard !isCommitted else { throw CheckpointError.notLoaded(source: source, member: member) }
    guard position >= 0, position < size, let base = buffer.baseAddress else { return 0 }
    let count = Int(min(Int64(buffer.count), size - position))
    var done = 0
    while done < count {
      let at = position + Int64(done)
      // The first run ending after `at`.
      var low = 0
      var high = runs.count
      while low < high {
        let middle = (low + high) / 2
        if runs[middle].pagesOffset + Int64(runs[middle].length) <= at { low = middle + 1 } else { high = middle }
      }
      let piece: Int
      let from: FileDescriptor?
      let offset: Int64
      if low < runs.count, runs[low].pagesOffset <= at {
        let run = runs[low]
        piece = Int(min(Int64(count - done), run.pagesOffset + Int64(run.length) - at))
        from = file.descriptor
        offset = Int64(run.coreOffset) + (at - run.pagesOffset)
      } else {
        let next = low < runs.count ? runs[low].pagesOffset : size
        piece = Int(min(Int64(count - done), next - at))
        from = rest
        offset = at
      }
      let part = UnsafeMutableRawBufferPointer(start: base + done, count: piece)
      let n = try from?.read(into: part, at: offset) ?? 0
      // Pages of zeros were never written: holes, or past the end of the file so far.
      if n < piece {
        UnsafeMutableRawBufferPointer(rebasing: part[n...]).initializeMemory(as: UInt8.self, repeating: 0)
      }
      done += piece
    }
    return count
  }
}

/// Writes consecutive blocks of a pages file where the runs say (runs of the core), or at their own offsets in
/// a private temporary file; pages of zeros are skipped. Used on the writer thread only.
private final class PagePlacer {
  /// The core, written as ``CoreDumpWriter`` writes it (write-back started as it goes).
  let core: CoreOutput
  let runs: [CorePlan.PageRun]
  let pageSize: Int
  private(set) var rest: FileDescriptor?
  private var position: Int64 = 0
  private var runIndex = 0

  init(core: FileDescriptor, runs: [CorePlan.PageRun], pageSize: Int) {
    self.core = CoreOutput(file: core, pageSize: pageSize)
    self.runs = runs
    self.pageSize = pageSize
  }

  /// Places the next block of the pages file.
  func place(_ block: UnsafeRawBufferPointer) throws {
    guard let base = block.baseAddress else { return }
    // One write per stretch of pages that is contiguous in the block and at its destination.
    var pending: (start: Int, count: Int, toCore: Bool, offset: Int64)?
    var index = 0
    while index < block.count {
      let length = min(pageSize, block.count - index)
      let at = position + Int64(index)
      while runIndex < runs.count && runs[runIndex].pagesOffset + Int64(runs[runIndex].length) <= at {
        runIndex += 1
      }
      let toCore = runIndex < runs.count && runs[runIndex].pagesOffset <= at
      let offset = toCore ? Int64(runs[runIndex].coreOffset) + (at - runs[runIndex].pagesOffset) : at
      let isZero = core.isZeroPage(base + index, count: length)
      if isZero {
        if let stretch = pending { try write(stretch, from: base) }
        pending = nil
      } else if let stretch = pending, stretch.toCore == toCore, stretch.offset + Int64(stretch.count) == offset {
        pending?.count += length
      } else {
        if let stretch = pending { try write(stretch, from: base) }
        pending = (index, length, toCore, offset)
      }
      index += length
    }
    if let stretch = pending { try write(stretch, from: base) }
    position += Int64(block.count)
  }

  private func write(_ stretch: (start: Int, count: Int, toCore: Bool, offset: Int64), from base: UnsafeRawPointer)
    throws
  {
    let bytes = UnsafeRawBufferPointer(start: base + stretch.start, count: stretch.count)
    if stretch.toCore {
      try core.write(bytes, at: UInt64(stretch.offset))
      return
    }
    let file = try rest ?? UnlinkedFile.make(stem: "checkpointctl-pages")
    rest = file
    try file.write(bytes, at: stretch.offset)
  }
}
