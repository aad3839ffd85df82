import Archive
import CRIU
import CheckpointKit
import Glibc
import OCI
import SystemSupport

/// `coredump`: a gdb-loadable ELF core (`core.<pid>`) for every process of a checkpoint, or the chosen ones.
///
/// Every selected process is checked (images present and consistent) before anything is written. Each core
/// is written under a temporary name beside its destination and moved into place when complete, so a failure
/// never leaves a partial core. Memory is streamed in 1 MiB pieces: pages not in the checkpoint, and pages of
/// zeros, are holes of a sparse file.
public enum CoreDumpWriter {
  /// What to write.
  public struct Options: Sendable {
    /// Processes to dump; empty means every process that has memory.
    public var pids: [UInt32]
    /// Directory of the `core.<pid>` files (created `0700` when missing).
    public var outputDirectory: String
    /// A directory holding the container's root file system (for example its mounted image).
    public var sysroot: String?
    /// Replace existing cores.
    public var force: Bool
    /// How to reach a `docker://` checkpoint's registry.
    public var registry = RegistryOptions()

    /// Options with these fields.
    public init(pids: [UInt32] = [], outputDirectory: String = ".", sysroot: String? = nil, force: Bool = false) {
      self.pids = pids
      self.outputDirectory = outputDirectory
      self.sysroot = sysroot
      self.force = force
    }
  }

  /// One written core.
  public struct Result: Equatable, Sendable {
    /// The process id.
    public var pid: UInt32
    /// The process's `comm`.
    public var name: String
    /// Number of threads (one `NT_PRSTATUS` each).
    public var threads: Int
    /// Path of the core.
    public var path: String
    /// Bytes the core takes on disk (it is sparse).
    public var sizeOnDisk: Int64
    /// Mapped files with the build-id CRIU recorded, sorted by path.
    public var buildIDs: [BuildID]

    /// A mapped file and its build-id in hex.
    public struct BuildID: Equatable, Sendable {
      /// The path in the container.
      public var path: String
      /// The build-id in hex.
      public var id: String
    }

    /// The summary line and one `build-id` line per mapped file.
    public var summary: String {
      var text = "\(path): pid \(pid) (\(name)), \(threads) thread\(threads == 1 ? "" : "s"), "
      text += "\(ByteCount.format(sizeOnDisk)) on disk\n"
      for entry in buildIDs { text += "  build-id \(entry.id) \(entry.path)\n" }
      return text
    }
  }

  /// Members `coredump` reads: images in memory, pages and file layers at random offsets.
  static let selection = CheckpointSource.Selection(
    memory: { name in
      if name == RootFSDiff.deletedFilesName { return true }
      return CRIUImage.Kind(of: Path.base(of: name))?.isOne(of: [
        .pstree, .files, .memfd, .core, .pagemap, .shmemPagemap, .mm,
      ]) == true
    },
    randomAccess: { name in
      CheckpointLayout.isPages(name) || name == RootFSDiff.archiveName || name == CoreFileSources.devShmArchive
    })

  /// How the cores of one run were written (for tests).
  final class Trace: @unchecked Sendable {
    /// Processes whose core was started while the archive was decompressed, their pages written into it.
    var started: [UInt32] = []
    /// Of those, the cores finished in that file: their pages were written once, where the final plan wants them.
    var streamed: [UInt32] = []
    /// Processes whose core was written as usual though the stream had started it (the final plan put the pages
    /// elsewhere): the pages were read back from the started core.
    var restarted: [UInt32] = []
  }

  /// Writes the cores of `checkpoint`; `note` gets a line for every process skipped (zombies), `wrote` each
  /// written core as soon as it is in place.
  public static func write(
    checkpoint: String, options: Options, pageSize: Int = 4096, note: (String) -> Void, wrote: (Result) -> Void
  ) throws {
    try write(checkpoint: checkpoint, options: options, pageSize: pageSize, trace: nil, note: note, wrote: wrote)
  }

  /// ``write(checkpoint:options:pageSize:note:wrote:)``, telling `trace` how each core was written.
  static func write(
    checkpoint: String, options: Options, pageSize: Int = 4096, trace: Trace?, note: (String) -> Void,
    wrote: (Result) -> Void
  ) throws {
    // A compressed archive's pages go straight into the cores when the images before them allow it.
    let streamed = StreamedCores(options: options, pageSize: pageSize, trace: trace)
    // A failure leaves no temporary core and no output directory this run made (unless a core is in it).
    var createdDirectories: [String] = []
    var succeeded = false
    defer {
      if !succeeded {
        streamed.discardUncommitted()
        for directory in (streamed.createdDirectories + createdDirectories).reversed() { rmdir(directory) }
      }
    }
    let loader = try CheckpointSource.Loader(
      path: checkpoint, selection: Self.selection, registry: options.registry)
    // Each member the source would spill is offered to the streamed cores first.
    while let member = try loader.nextStreamedMember() {
      if let core = streamed.receiver(member: member.name, source: try loader.sourceSoFar) {
        try loader.take(with: core)
      }
    }
    let source = try loader.finish()
    let processes = try source.processes()
    var selected: [CheckpointProcess] = []
    // Notes wait until every image is checked: a bad checkpoint gives one error line and nothing else.
    var skipped: [String] = []
    if options.pids.isEmpty {
      for process in processes {
        if process.state.hasResources {
          selected.append(process)
        } else {
          skipped.append(
            "process \(process.pid) (\(process.name)) is a \(process.state.description.lowercased()): no core written")
        }
      }
    } else {
      for pid in options.pids where !selected.contains(where: { $0.pid == pid }) {
        guard let process = processes.first(where: { $0.pid == pid }) else {
          throw CoreDumpError.noSuchProcess(source: checkpoint, pid: pid)
        }
        guard process.state.hasResources else { throw CoreDumpError.zombie(source: checkpoint, pid: pid) }
        selected.append(process)
      }
    }
    let directory = options.outputDirectory
    if try Path.status(directory) == nil { createdDirectories = try Path.makeDirectories(directory) }
    let destinations = selected.map { Path.join(directory, "core.\($0.pid)") }
    if !options.force {
      for path in destinations where try Path.linkStatus(path) != nil { throw CoreDumpError.exists(path: path) }
    }
    let files = try source.regularFiles()
    var wanted: Set<String> = []
    for process in selected where source.hasMemoryMap(pid: process.pid) {
      let vmas = try source.image(.mm(pid: process.pid)).messages(MmEntry.self).first?.vmas ?? []
      for entry in CorePlan.mappedFiles(vmas, files: files).values { wanted.insert(entry.name) }
    }
    let fileSources = try CoreFileSources(source: source, sysroot: options.sysroot, wanted: wanted)
    let plans = try selected.map {
      try CorePlan(process: $0, source: source, files: files, fileSources: fileSources, pageSize: pageSize)
    }
    skipped.forEach(note)
    for (plan, path) in zip(plans, destinations) {
      let started = streamed.hasCore(pid: plan.process.pid)
      let placed = streamed.take(for: plan, source: source)
      if started {
        placed == nil ? trace?.restarted.append(plan.process.pid) : trace?.streamed.append(plan.process.pid)
      }
      let size = try writeCore(plan, to: path, replace: options.force, pageSize: pageSize, placed: placed)
      wrote(
        Result(
          pid: plan.process.pid, name: plan.process.name, threads: plan.threadCount, path: path, sizeOnDisk: size,
          buildIDs: plan.buildIDs.map { Result.BuildID(path: $0.path, id: $0.buildID) }))
    }
    succeeded = true
  }

  /// Writes one core; returns its size on disk. With `placed`, the core's private pages are already in its
  /// temporary file, where `plan` wants them: everything else is written around them.
  static func writeCore(
    _ plan: CorePlan, to path: String, replace: Bool, pageSize: Int, placed: StreamedCore? = nil
  ) throws -> Int64 {
    let file = try placed?.file ?? AtomicFile(destination: path)
    let output = CoreOutput(file: file.descriptor, pageSize: pageSize)
    do {
      try plan.headers.withUnsafeBytes { try output.write($0, at: 0) }
      // Address ranges already written, in address order (one may span adjacent segments).
      let done = placed?.placedRanges ?? []
      var next = 0
      for segment in plan.segments where segment.header.fileSize > 0 {
        while next < done.count && done[next].upperBound <= segment.vma.start { next += 1 }
        var inside: [Range<UInt64>] = []
        var index = next
        while index < done.count && done[index].lowerBound < segment.vma.end {
          inside.append(done[index].clamped(to: segment.vma.start..<segment.vma.end))
          index += 1
        }
        try write(segment, memory: plan.memory, to: output, skipping: inside)
      }
      try plan.notes.withUnsafeBytes { try output.write($0, at: plan.notesOffset) }
      guard ftruncate(file.descriptor.rawValue, off_t(plan.fileSize)) == 0 else {
        throw SystemError("cannot write", path: path)
      }
      if let placed { try placed.commit(replace: replace) } else { try file.commit(replace: replace) }
    } catch let error as CoreDumpError {
      throw error
    } catch {
      throw CoreDumpError.writing(path: path, reason: "\(error)")
    }
    guard let info = try Path.status(path) else { return 0 }
    return Int64(info.st_blocks) * 512
  }

  /// The parts of `ranges` outside `holes` (both sorted and disjoint).
  static func subtracting(_ holes: [Range<UInt64>], from ranges: [Range<UInt64>]) -> [Range<UInt64>] {
    guard !holes.isEmpty else { return ranges }
    var result: [Range<UInt64>] = []
    var first = 0
    for range in ranges {
      while first < holes.count && holes[first].upperBound <= range.lowerBound { first += 1 }
      var lower = range.lowerBound
      var index = first
      while index < holes.count && holes[index].lowerBound < range.upperBound {
        if holes[index].lowerBound > lower { result.append(lower..<holes[index].lowerBound) }
        lower = max(lower, holes[index].upperBound)
        index += 1
      }
      if lower < range.upperBound { result.append(lower..<range.upperBound) }
    }
    return result
  }

  /// Writes a segment's bytes: the mapped file's (if any) with the saved pages over them. Address ranges in
  /// `skipping` (page-aligned) are already in the core.
  static func write(
    _ segment: CorePlan.Segment, memory: ProcessMemory, to output: CoreOutput, skipping: [Range<UInt64>] = []
  ) throws {
    let start = segment.vma.start
    let size = segment.header.fileSize
    let base = segment.header.offset
    let buffer = output.buffer
    let extents = subtracting(skipping, from: segment.extents)
    if let file = segment.file {
      // What is left to write: the whole segment but the pages already in the core.
      let unwritten = subtracting(skipping, from: [start..<start + size])
      var done: UInt64 = 0
      var next = 0
      var nextUnwritten = 0
      while done < size {
        let count = Int(min(UInt64(buffer.count), size - done))
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        var filled = 0
        if let position = Int64(exactly: segment.vma.pgoff + done) {
          filled = try file.read(into: part, at: position)
        }
        if filled < count {
          UnsafeMutableRawBufferPointer(rebasing: part[filled...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        // The saved pages (copy-on-write copies) replace the file's bytes.
        let window = (start + done)..<(start + done + UInt64(count))
        while next < extents.count, extents[next].upperBound <= window.lowerBound { next += 1 }
        var index = next
        while index < extents.count, extents[index].lowerBound < window.upperBound {
          let lower = max(extents[index].lowerBound, window.lowerBound)
          let upper = min(extents[index].upperBound, window.upperBound)
          let from = Int(lower - window.lowerBound)
          try memory.read(
            address: lower, into: UnsafeMutableRawBufferPointer(rebasing: part[from..<from + Int(upper - lower)]))
          index += 1
        }
        while nextUnwritten < unwritten.count, unwritten[nextUnwritten].upperBound <= window.lowerBound {
          nextUnwritten += 1
        }
        index = nextUnwritten
        while index < unwritten.count, unwritten[index].lowerBound < window.upperBound {
          let from = Int(max(unwritten[index].lowerBound, window.lowerBound) - window.lowerBound)
          let to = Int(min(unwritten[index].upperBound, window.upperBound) - window.lowerBound)
          try output.writeSparse(UnsafeRawBufferPointer(rebasing: part[from..<to]), at: base + done + UInt64(from))
          index += 1
        }
        done += UInt64(count)
      }
      return
    }
    for extent in extents {
      var address = extent.lowerBound
      while address < extent.upperBound {
        let count = Int(min(UInt64(buffer.count), extent.upperBound - address))
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        try memory.read(address: address, into: part)
        try output.writeSparse(UnsafeRawBufferPointer(part), at: base + (address - start))
        address += UInt64(count)
      }
    }
  }
}

/// The core being written: positioned writes that leave pages of zeros as holes, and write-back started every
/// 8 MiB so the closing `fsync` finds the data on its way to the device.
final class CoreOutput {
  let file: FileDescriptor
  let pageSize: Int
  let buffer: UnsafeMutableRawBufferPointer
  private let zeros: UnsafeMutableRawPointer
  private var writeback = WritebackPacer()

  init(file: FileDescriptor, pageSize: Int) {
    self.file = file
    self.pageSize = pageSize
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    zeros = UnsafeMutableRawPointer.allocate(byteCount: pageSize, alignment: 4096)
    zeros.initializeMemory(as: UInt8.self, repeating: 0, count: pageSize)
  }

  deinit {
    buffer.deallocate()
    zeros.deallocate()
  }

  /// Writes all of `bytes` at `offset`.
  func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
    try file.write(bytes, at: Int64(offset))
    writeback.wrote(bytes.count, to: file)
  }

  /// True when the `count` bytes at `bytes` (a page at most) are all zeros.
  func isZeroPage(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
    memcmp(bytes, zeros, count) == 0
  }

  /// Writes the pages of `bytes` that are not all zeros; the others stay holes.
  func writeSparse(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
    guard let base = bytes.baseAddress else { return }
    var runStart: Int?
    var position = 0
    while position < bytes.count {
      let length = min(pageSize, bytes.count - position)
      let isZero = isZeroPage(base + position, count: length)
      if isZero, let start = runStart {
        try write(UnsafeRawBufferPointer(rebasing: bytes[start..<position]), at: offset + UInt64(start))
        runStart = nil
      } else if !isZero && runStart == nil {
        runStart = position
      }
      position += length
    }
    if let start = runStart {
      try write(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]), at: offset + UInt64(start))
    }
  }
}
