import Archive
import CRIU
import SystemSupport

extension CheckpointSource {
  /// The memory of process `pid`: its VMAs (`mm-<pid>.img`), private pages (`pagemap-<pid>.img` and the
  /// `pages-<pages_id>.img` it names) and the shared memory it maps: anonymous shared objects
  /// (`pagemap-shmem-<shmid>.img`) and memfds, found through `files.img` and `memfd.img`. Without `mm-<pid>.img`
  /// the process has no VMAs: its private pages can still be read and searched (see ``hasMemoryMap(pid:)``).
  public func memory(pid: UInt32, pageSize: Int = 4096) throws -> ProcessMemory {
    let mm = try hasMemoryMap(pid: pid) ? memoryMap(pid: pid) : MmEntry()
    let privateMemory = try reader(pagemap: .pagemap(pid: pid), pageSize: pageSize)
    var objects: [UInt64: MemoryReader?] = [:]
    var mappings: [UInt64: MemoryReader] = [:]
    for vma in mm.vmas {
      guard let shmid = try sharedObject(of: vma) else { continue }
      if objects[shmid] == nil {
        objects[shmid] = try reader(pagemap: .shmemPagemap(shmid: shmid), pageSize: pageSize)
      }
      if let reader = objects[shmid] ?? nil { mappings[vma.start] = reader }
    }
    return ProcessMemory(pid: pid, vmas: mm.vmas, privateMemory: privateMemory, sharedMappings: mappings)
  }

  /// The `mm-<pid>.img` entry of process `pid`, its VMAs checked before anyone computes with them: each starts
  /// below its end, its file offset plus its length fits in 64 bits, and none overlaps another (CRIU writes them
  /// sorted and disjoint, as the kernel keeps them).
  package func memoryMap(pid: UInt32) throws -> MmEntry {
    let name = CRIUImage.mm(pid: pid)
    let image = try image(name)
    guard let entry = image.entries.first(where: { $0.message is MmEntry }),
      let mm = entry.message as? MmEntry
    else { return MmEntry() }
    func corrupt(_ reason: String) -> CheckpointError {
      .corruptImage(
        source: displayPath, member: memberPath(name), .invalidEntry(offset: entry.offset, reason: reason))
    }
    var previousEnd: UInt64 = 0
    for vma in mm.vmas.sorted(by: { $0.start < $1.start }) {
      let bounds = "0x\(String(vma.start, radix: 16))-0x\(String(vma.end, radix: 16))"
      guard vma.start < vma.end else { throw corrupt("VMA \(bounds) does not end after its start") }
      guard vma.pgoff <= UInt64.max - (vma.end - vma.start) else {
        throw corrupt("VMA \(bounds) has a file offset beyond 64 bits (0x\(String(vma.pgoff, radix: 16)))")
      }
      guard vma.start >= previousEnd else {
        throw corrupt("VMA \(bounds) overlaps the VMA before it (ending at 0x\(String(previousEnd, radix: 16)))")
      }
      previousEnd = vma.end
    }
    return mm
  }

  /// True when the checkpoint has the process's VMAs (`mm-<pid>.img`).
  public func hasMemoryMap(pid: UInt32) -> Bool { contains(CRIUImage.mm(pid: pid)) }

  /// Fails, naming `mm-<pid>.img`, when the process's VMAs are needed for `what` and the image is missing.
  func requireMemoryMap(pid: UInt32, for what: String) throws {
    guard !hasMemoryMap(pid: pid) else { return }
    throw CheckpointError.needsImage(
      what: what, source: displayPath, member: memberPath(.mm(pid: pid)))
  }

  /// The shared-memory object id a VMA maps, if it maps one.
  package func sharedObject(of vma: VmaEntry) throws -> UInt64? {
    if vma.status & ProcessMemory.anonymousShared != 0 { return vma.shmid }
    guard vma.status & ProcessMemory.memfd != 0 else { return nil }
    // shmid is a file id: files.img names the memfd inode, memfd.img gives the inode's shmid.
    let files = try image(.files).messages(FileEntry.self)
    guard let file = files.first(where: { UInt64($0.id) == vma.shmid && $0.hasMemfd }) else { return nil }
    guard contains(CRIUImage.memfd) else { return nil }
    let inodes = try image(.memfd).messages(MemfdInodeEntry.self)
    return inodes.first { $0.inodeID == file.memfd.inodeID }.map { UInt64($0.shmid) }
  }

  /// The regular files of `files.img` by file id (the id a file-backed VMA's `shmid` gives); empty without
  /// `files.img`.
  package func regularFiles() throws -> [UInt64: RegFileEntry] {
    var files: [UInt64: RegFileEntry] = [:]
    guard contains(CRIUImage.files) else { return files }
    for entry in try image(.files).messages(FileEntry.self) where entry.hasReg {
      files[UInt64(entry.id)] = entry.reg
    }
    return files
  }

  /// The pagemap image `name`; a malformed one is an error naming it.
  func pageMap(_ name: CRIUImage, pageSize: Int = 4096) throws -> PageMap {
    do {
      return try PageMap(image: image(name), pageSize: pageSize)
    } catch let error as CRIUImageError {
      throw CheckpointError.corruptImage(source: displayPath, member: memberPath(name), error)
    }
  }

  /// A reader for a pagemap image and its pages file; `nil` when the pagemap is absent.
  func reader(pagemap name: CRIUImage, pageSize: Int) throws -> MemoryReader? {
    guard contains(name) else { return nil }
    let pageMap = try self.pageMap(name, pageSize: pageSize)
    let pagesName = memberPath(.pages(id: pageMap.pagesID))
    let hasPages = pageMap.regions.contains { $0.fileOffset != nil }
    // A pagemap that lists pages without its pages file cannot be read (lazy-only pagemaps need none).
    if hasPages && !contains(pagesName) { throw CheckpointError.missingMember(source: displayPath, member: pagesName) }
    let pages: RandomAccessBytes = contains(pagesName) ? try randomAccess(pagesName) : InMemoryBytes([])
    let needsParent = pageMap.regions.contains { $0.flags.contains(.parent) }
    let parent = needsParent ? try parentSource()?.reader(pagemap: name, pageSize: pageSize) : nil
    return MemoryReader(pageMap: pageMap, pages: pages, parent: parent)
  }

  /// The pre-dump this checkpoint's PE_PARENT pages live in: the `parent` link of an image directory, or
  /// Podman's `pre-checkpoint/` beside `checkpoint/`.
  func parentSource() throws -> CheckpointSource? {
    if members.keys.contains(where: { $0.hasPrefix(CheckpointLayout.preCheckpointDirectory) }) {
      return CheckpointSource(sharing: self, imagePrefix: CheckpointLayout.preCheckpointDirectory)
    }
    guard let root = directoryPath else { return nil }
    let link = Path.join(Path.join(root, imagePrefix), "parent")
    guard let info = try Path.status(link), Path.isDirectory(info) else { return nil }
    return try CheckpointSource(path: link)
  }
}
