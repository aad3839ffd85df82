import Archive
import CRIU
import CheckpointKit
import SystemSupport

/// Everything needed to write one process's core, checked against the images before a byte is written:
/// the segments with their file offsets, where each segment's bytes come from, and the notes.
struct CorePlan {
  /// VMA `status` bits (CRIU `VMA_AREA_*`).
  enum Status {
    static let vsyscall: UInt32 = 1 << 2
    static let filePrivate: UInt32 = 1 << 6
    static let fileShared: UInt32 = 1 << 7
    static let socket: UInt32 = 1 << 11
    static let vvar: UInt32 = 1 << 12
    static let unsupported: UInt32 = 1 << 31
  }

  /// One `PT_LOAD`.
  struct Segment {
    var vma: VmaEntry
    var header: ELFCore.ProgramHeader
    /// Address ranges inside the segment's file part whose pages are in the checkpoint.
    var extents: [Range<UInt64>]
    /// The mapped file's bytes, when a layer of the root file system holds the file.
    var file: RandomAccessBytes?
    /// True when the VMA maps a shared-memory object (its pages come from the object's pagemap).
    var isShared: Bool
  }

  /// Where a process's memory goes in its core, decided from its images alone (VMAs, pagemaps, the layers of
  /// mapped files): no page is read, and nothing needs the process tree or the threads.
  struct Layout {
    var memory: ProcessMemory
    var segments: [Segment]
    /// Where the notes start: after the last segment.
    var notesOffset: UInt64
    /// The mapped files, for `NT_FILE`.
    var fileMappings: [CoreFileMapping]
    /// Where the private pages file's pages go in the core (``CorePlan/pageRuns(_:_:)``); `nil` when a run is not
    /// page-aligned.
    var pageRuns: [PageRun]?
  }

  /// A run of the process's private pages file stored as it is in the core: `length` bytes at `pagesOffset`
  /// of `pages-<id>.img` are the bytes at `coreOffset` of the core (memory at `address`).
  struct PageRun: Equatable {
    var pagesOffset: Int64
    var coreOffset: UInt64
    var address: UInt64
    var length: UInt64
  }

  var process: CheckpointProcess
  var machine: CoreMachine
  /// The process's memory, segments and where its private pages go.
  var layout: Layout
  var notes: [UInt8]
  var threadCount: Int
  /// Mapped files with a build-id recorded by CRIU: path → hex build-id.
  var buildIDs: [(path: String, buildID: String)]

  var memory: ProcessMemory { layout.memory }
  var segments: [Segment] { layout.segments }
  /// Where the notes start: after the last segment.
  var notesOffset: UInt64 { layout.notesOffset }

  /// The bytes at the start of the core.
  var headers: [UInt8] {
    let note = ELFCore.ProgramHeader(
      type: ELFCore.noteSegment, permissions: [], offset: notesOffset, address: 0, fileSize: UInt64(notes.count),
      memorySize: 0, alignment: 4)
    return ELFCore.headers(machine: machine.elfMachine, programHeaders: [note] + segments.map(\.header))
  }

  /// The size of the whole core file.
  var fileSize: UInt64 { notesOffset + UInt64(notes.count) }

  /// Absolute paths of the files a process's VMAs map.
  static func mappedFiles(_ vmas: [VmaEntry], files: [UInt64: RegFileEntry]) -> [UInt64: RegFileEntry] {
    var result: [UInt64: RegFileEntry] = [:]
    for vma in vmas where vma.status & (Status.filePrivate | Status.fileShared) != 0 {
      if let entry = files[vma.shmid] { result[vma.shmid] = entry }
    }
    return result
  }

  /// Checks the images of `process` and lays out its core.
  init(
    process: CheckpointProcess, source: CheckpointSource, files: [UInt64: RegFileEntry],
    fileSources: CoreFileSources?, pageSize: Int
  ) throws {
    let prefix = source.imagePrefix
    func bad(_ member: String, _ reason: String) -> CoreDumpError {
      .badImage(source: source.displayPath, member: prefix + member, reason: reason)
    }
    let pid = process.pid
    let layout = try Self.layout(
      pid: pid, source: source, files: files, fileSources: fileSources, pageSize: pageSize)
    let memory = layout.memory
    let mmName = CRIUImage.mm(pid: pid).name
    // Threads: the main thread first, each with its core image.
    var tids = [pid] + process.threads.filter { $0 != pid }
    var seen: Set<UInt32> = []
    tids = tids.filter { seen.insert($0).inserted }
    var threads: [(tid: UInt32, core: CoreEntry)] = []
    for tid in tids {
      let name = CRIUImage.core(tid: tid).name
      guard source.contains(prefix + name) else {
        throw bad(name, "missing: thread \(tid) of process \(pid) has no core image")
      }
      guard let core = try source.image(name).messages(CoreEntry.self).first else {
        throw bad(name, "the image holds no core entry")
      }
      threads.append((tid, core))
    }
    guard let main = threads.first?.core else { throw bad(CRIUImage.core(tid: pid).name, "missing") }
    guard let machine = CoreMachine(main.mtype) else {
      throw CoreDumpError.unsupportedMachine(
        source: source.displayPath, member: source.memberPath(.core(tid: pid)), machine: "\(main.mtype)")
    }
    for (tid, core) in threads where core.mtype != main.mtype {
      throw bad(CRIUImage.core(tid: tid).name, "thread \(tid) is \(core.mtype), its process \(main.mtype)")
    }

    // Notes.
    let threadCore = main.hasThreadCore ? main.threadCore : ThreadCoreEntry()
    let mm = try source.image(mmName).messages(MmEntry.self).first ?? MmEntry()
    let info = CoreProcessInfo(
      pid: pid, ppid: process.ppid, pgid: process.pgid, sid: process.sid, state: process.state,
      name: process.name, arguments: Self.arguments(mm, memory), uid: threadCore.creds.uid,
      gid: threadCore.creds.gid, nice: threadCore.schedNice, flags: main.tc.flags)
    do {
      notes = try CoreNotes.notes(
        machine: machine, process: info, threads: threads, auxv: mm.mmSavedAuxv, files: layout.fileMappings,
        pageSize: pageSize)
    } catch {
      if case .noRegisters(let tid, _) = error { throw bad(CRIUImage.core(tid: tid).name, error.description) }
      throw error
    }
    var buildIDs: [String: String] = [:]
    for entry in Self.mappedFiles(memory.vmas, files: files).values where !entry.buildID.isEmpty {
      buildIDs[entry.name] = entry.buildID.map { word in
        withUnsafeBytes(of: word.littleEndian) {
          $0.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
        }
      }.joined()
    }
    self.process = process
    self.machine = machine
    self.layout = layout
    self.threadCount = threads.count
    self.buildIDs = buildIDs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
  }

  /// Checks the VMAs and pagemaps of process `pid` and lays out its segments.
  static func layout(
    pid: UInt32, source: CheckpointSource, files: [UInt64: RegFileEntry], fileSources: CoreFileSources?,
    pageSize: Int
  ) throws -> Layout {
    let prefix = source.imagePrefix
    func bad(_ member: String, _ reason: String) -> CoreDumpError {
      .badImage(source: source.displayPath, member: prefix + member, reason: reason)
    }
    let mmName = CRIUImage.mm(pid: pid).name
    guard source.hasMemoryMap(pid: pid) else { throw bad(mmName, "missing: process \(pid) has no memory map") }
    let memory = try source.memory(pid: pid, pageSize: pageSize)
    let page = UInt64(pageSize)
    // VMAs: non-empty, page-aligned, in address order without overlap.
    var previousEnd: UInt64 = 0
    for (index, vma) in memory.vmas.enumerated() {
      guard vma.start < vma.end, vma.start % page == 0, vma.end % page == 0 else {
        throw bad(mmName, "VMA \(hex(vma.start))-\(hex(vma.end)) is empty or not page-aligned")
      }
      if index > 0 && vma.start < previousEnd {
        throw bad(
          mmName, "VMA \(hex(vma.start))-\(hex(vma.end)) overlaps the VMA before it (ending at \(hex(previousEnd)))")
      }
      guard vma.pgoff <= UInt64.max - (vma.end - vma.start) else {
        throw bad(mmName, "VMA \(hex(vma.start))-\(hex(vma.end)) has an offset past the end of any file")
      }
      previousEnd = vma.end
    }
    try Self.checkPages(memory.privateMemory, pagemap: CRIUImage.pagemap(pid: pid).name, source: source, bad: bad)
    var checkedObjects: Set<ObjectIdentifier> = []
    for vma in memory.vmas {
      guard let reader = memory.sharedMappings[vma.start],
        checkedObjects.insert(ObjectIdentifier(reader)).inserted,
        let shmid = try source.sharedObject(of: vma)
      else { continue }
      try Self.checkPages(reader, pagemap: CRIUImage.shmemPagemap(shmid: shmid).name, source: source, bad: bad)
    }

    // Segments: offsets after the headers, page-aligned; notes after the last segment.
    let ranges = memory.ranges()
    let headerBytes = UInt64(ELFCore.headersSize(programHeaders: memory.vmas.count + 1))
    var cursor = Self.alignUp(headerBytes, page)
    var segments: [Segment] = []
    var fileMappings: [CoreFileMapping] = []
    for vma in memory.vmas {
      let isShared = memory.sharedMappings[vma.start] != nil
      let extents = Self.extents(of: vma, in: ranges, shared: isShared)
      let size = vma.end - vma.start
      let isFile = !isShared && vma.status & (Status.filePrivate | Status.fileShared | Status.socket) != 0
      var file: RandomAccessBytes?
      var fileSize: UInt64
      if vma.prot & 7 == 0 || vma.status & (Status.vvar | Status.vsyscall | Status.unsupported) != 0 {
        fileSize = 0
      } else if isFile {
        let entry = files[vma.shmid]
        if let entry, let fileSources,
          let found = try fileSources.content(
            of: entry.name, expectedSize: entry.hasSize ? Int64(clamping: entry.size) : nil)
        {
          file = found.bytes
          fileSize = size
        } else {
          // Without the file, only the pages CRIU saved; gdb reads the rest through NT_FILE and `set sysroot`.
          fileSize = extents.last.map { $0.upperBound - vma.start } ?? 0
        }
      } else {
        fileSize = size
      }
      if isFile, let entry = files[vma.shmid] {
        fileMappings.append(CoreFileMapping(start: vma.start, end: vma.end, offset: vma.pgoff, path: entry.name))
      }
      let header = ELFCore.ProgramHeader(
        type: ELFCore.loadSegment, permissions: ELFCore.Permissions(prot: vma.prot), offset: cursor,
        address: vma.start, fileSize: fileSize, memorySize: size, alignment: page)
      let limit = vma.start + fileSize
      segments.append(
        Segment(
          vma: vma, header: header,
          extents: extents.compactMap { $0.lowerBound < limit ? $0.lowerBound..<min($0.upperBound, limit) : nil },
          file: file, isShared: isShared))
      let (next, overflow) = cursor.addingReportingOverflow(Self.alignUp(fileSize, page))
      guard !overflow, next < UInt64(Int64.max) / 2 else { throw bad(mmName, "the VMAs are too large for one core") }
      cursor = next
    }

    return Layout(
      memory: memory, segments: segments, notesOffset: cursor, fileMappings: fileMappings,
      pageRuns: pageRuns(segments, memory))
  }

  /// The runs of the private pages file that the core holds as they are: each present private page inside a
  /// segment's file part (shared mappings take their pages from the shared object), sorted by offset in the
  /// pages file. `nil` when a run is not page-aligned.
  static func pageRuns(_ segments: [Segment], _ memory: ProcessMemory) -> [PageRun]? {
    guard let map = memory.privateMemory?.pageMap else { return [] }
    let page = UInt64(map.pageSize)
    var runs: [PageRun] = []
    var first = 0
    for segment in segments where !segment.isShared && segment.header.fileSize > 0 {
      let lower = segment.vma.start
      let upper = lower + segment.header.fileSize
      // Regions and segments are both in address order and do not overlap among themselves.
      while first < map.regions.count && map.regions[first].end(pageSize: map.pageSize) <= lower { first += 1 }
      var index = first
      while index < map.regions.count && map.regions[index].address < upper {
        let region = map.regions[index]
        index += 1
        guard let fileOffset = region.fileOffset else { continue }
        let from = max(region.address, lower)
        let to = min(region.end(pageSize: map.pageSize), upper)
        guard from < to else { continue }
        guard from % page == 0, to % page == 0 else { return nil }
        runs.append(
          PageRun(
            pagesOffset: fileOffset + Int64(from - region.address), coreOffset: segment.header.offset + (from - lower),
            address: from, length: to - from))
      }
    }
    // Runs that follow each other in the pages file, the core and memory are one.
    var merged: [PageRun] = []
    for run in runs.sorted(by: { $0.pagesOffset < $1.pagesOffset }) {
      if let last = merged.last, last.pagesOffset + Int64(last.length) == run.pagesOffset,
        last.coreOffset + last.length == run.coreOffset, last.address + last.length == run.address
      {
        merged[merged.count - 1].length += run.length
      } else {
        merged.append(run)
      }
    }
    return merged
  }

  /// Fails, naming the pagemap, when a region's pages lie past the end of its pages file or its addresses wrap.
  static func checkPages(
    _ reader: MemoryReader?, pagemap: String, source: CheckpointSource, bad: (String, String) -> CoreDumpError
  ) throws {
    guard let reader else { return }
    let map = reader.pageMap
    let pages = CRIUImage.pages(id: map.pagesID)
    let pagesName = pages.name
    let available = source.contains(pages) ? try source.size(of: source.memberPath(pages)) : 0
    for region in map.regions {
      let (bytes, overflow) = region.pageCount.multipliedReportingOverflow(by: UInt64(map.pageSize))
      guard !overflow, bytes <= UInt64.max - region.address else {
        throw bad(pagemap, "the region at \(hex(region.address)) of \(region.pageCount) pages wraps the address space")
      }
      guard let offset = region.fileOffset else { continue }
      guard bytes <= UInt64(Int64.max), offset + Int64(bytes) <= available else {
        throw bad(
          pagemap,
          "pages of \(hex(region.address))-\(hex(region.address + bytes)) lie past the end of \(pagesName) (\(available) bytes)"
        )
      }
    }
  }

  /// The parts of `ranges` inside `vma` (only shared-object pages for a shared mapping, only private ones else).
  static func extents(of vma: VmaEntry, in ranges: [ProcessMemory.Range], shared: Bool) -> [Range<UInt64>] {
    var result: [Range<UInt64>] = []
    for range in ranges where range.isShared == shared {
      let lower = max(range.address, vma.start)
      let upper = min(range.address &+ range.length, vma.end)
      guard lower < upper else { continue }
      if let last = result.last, last.upperBound == lower {
        result[result.count - 1] = last.lowerBound..<upper
      } else {
        result.append(lower..<upper)
      }
    }
    return result
  }

  /// argv from memory (at most 4 KiB), or nothing when its pages were not saved.
  static func arguments(_ mm: MmEntry, _ memory: ProcessMemory) -> [UInt8] {
    guard mm.mmArgEnd > mm.mmArgStart else { return [] }
    let count = Int(min(mm.mmArgEnd - mm.mmArgStart, 4096))
    return (try? memory.read(address: mm.mmArgStart, count: count)) ?? []
  }

  static func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    let remainder = value % alignment
    return remainder == 0 ? value : value + (alignment - remainder)
  }
}

/// `0x…` for addresses in messages.
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
