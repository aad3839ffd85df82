import Archive
import CRIU
import OCI
import SystemSupport

/// Reads a checkpoint once and hands processes' memory to a consumer while a compressed archive is decompressed,
/// with no temporary copy of the pages (issue #23).
///
/// Podman, CRI-O and the kubelet write the CRIU images in name order, so `mm-<pid>.img`, `pagemap-<pid>.img`,
/// `files.img`, `memfd.img` and the shared-memory pagemaps come before `pages-<id>.img`. When the stream reaches
/// a pages member that exactly one process's pagemap names, whose pages are in the file in address order, and
/// whose other memory (shared objects) is already readable, the consumer gets that process's memory there and
/// then: its private pages are read forward from the decompressor, the rest from where it lies. Every other
/// pages member is kept as any command keeps it (in memory when small, else in the private temporary file), and
/// the consumer is not called for its process: the caller reads it from ``source`` afterwards.
///
/// Once the whole checkpoint is read, each streamed process's memory layout is checked against the one the
/// complete checkpoint gives (an archive out of name order could bring an `mm-<pid>.img` after the pages); on a
/// difference the pass is made again without streaming, or fails when the consumer's output cannot be taken back.
public struct MemoryPass {
  /// The checkpoint, read whole; the pages of streamed processes can no longer be read from it.
  public let source: CheckpointSource
  /// The processes whose memory the consumer was given, and whose results stand.
  public let streamed: Set<UInt32>

  /// Reads `path`. `keeping` says which byte ranges of a pages member must stay readable after it is streamed
  /// (`nil` from it: the whole member, which is then not streamed); `wants` says, from a process's memory as the
  /// images read so far describe it (and the checkpoint read so far), whether the consumer takes it; `consume`
  /// reads it, in address order, each byte once at most. With `replay`, an archive out of order is read again
  /// without streaming (``streamed`` is then empty); without, it is an error.
  public static func run(
    path: String, selection: CheckpointSource.Selection, registry: RegistryOptions = RegistryOptions(),
    replay: Bool = true,
    keeping: CheckpointSource.Selection.NeededRanges? = nil,
    wants: (ProcessMemory, CheckpointSource) -> Bool, consume: (ProcessMemory) throws -> Void
  ) throws -> MemoryPass {
    let loader = try CheckpointSource.Loader(path: path, selection: selection, registry: registry)
    let owners = PagesOwners()
    var taken: [UInt32: (layout: ProcessMemory.Layout, files: [UInt8]?, pages: StreamedPages)] = [:]
    try withoutActuallyEscaping(consume) { consume in
      while let member = try loader.nextStreamedMember() {
        let soFar = try loader.sourceSoFar
        guard let pid = owners.owner(of: member.name, in: soFar), taken[pid] == nil,
          let memory = streamable(pid: pid, in: soFar)
        else { continue }
        // Parts of the member that other readers need afterwards (command lines for `inspect`) are kept as they
        // pass by; a member wanted whole is not streamed. Decided before the consumer is asked: once it says yes
        // (a diff's other side may be waiting for these pages), the member is taken.
        var kept: SparseBytes?
        if let keeping {
          let images = soFar.members.compactMapValues { if case .memory(let bytes) = $0 { bytes } else { nil } }
          guard let ranges = try? keeping(member.name, member.size, images) else { continue }
          kept = SparseBytes(size: member.size, keeping: ranges)
        }
        guard wants(memory, soFar) else { continue }
        let pages = StreamedPages(
          source: path, member: member.name, memory: memory, keeping: kept, consume: consume)
        try loader.take(with: pages)
        pages.release()
        // VMAs are named from `files.img`: a consumer may have named them already.
        taken[pid] = (memory.layout, try? soFar.bytes(of: soFar.memberPath(.files)), pages)
      }
    }
    let source = try loader.finish()
    for (pid, entry) in taken {
      // The archive may also hold the member twice: the source reads the last copy, the consumer had the first.
      guard case .received(let bytes, _)? = source.members[entry.pages.member], (bytes as AnyObject) === entry.pages,
        (try? source.memory(pid: pid).layout) == entry.layout,
        (try? source.bytes(of: source.memberPath(.files))) == entry.files
      else {
        guard replay, canReadAgain(path) else {
          throw CheckpointError.outOfOrder(source: path, member: entry.pages.member)
        }
        return MemoryPass(
          source: try CheckpointSource(path: path, selection: selection, registry: registry), streamed: [])
      }
    }
    return MemoryPass(source: source, streamed: Set(taken.keys))
  }

  /// True unless `path` is a pipe or a device (`<(cat x.tar.zst)`), which can be read once only.
  static func canReadAgain(_ path: String) -> Bool {
    guard let info = try? Path.status(path) else { return true }  // an image reference
    return Path.isRegularFile(info) || Path.isDirectory(info)
  }

  /// The memory of `pid` as the images read so far give it, when its private pages can be read forward from the
  /// stream: its VMAs read, its pages in address order in the pages file, none in a parent checkpoint, every
  /// shared object it maps read and readable.
  static func streamable(pid: UInt32, in source: CheckpointSource) -> ProcessMemory? {
    // An image that cannot be read now (missing, corrupt, after the pages) leaves the process to the usual way,
    // which reports what is wrong.
    guard source.hasMemoryMap(pid: pid), let memory = try? source.memory(pid: pid),
      let pageMap = memory.privateMemory?.pageMap
    else { return nil }
    // A `tar cf` of a directory lists it in directory order: an image that is not there yet may still come.
    // Shared memory is streamed only when everything that says where its pages are has been read.
    for vma in memory.vmas where vma.status & (ProcessMemory.anonymousShared | ProcessMemory.memfd) != 0 {
      if vma.status & ProcessMemory.memfd != 0
        && !(source.contains(CRIUImage.files) && source.contains(CRIUImage.memfd))
      {
        return nil
      }
      guard memory.sharedMappings[vma.start] != nil else { return nil }
    }
    var previous: Int64 = -1
    for region in pageMap.regions {
      if region.flags.contains(.parent) { return nil }
      guard let offset = region.fileOffset else { continue }
      guard offset > previous else { return nil }
      previous = offset
    }
    return memory
  }
}

/// Which process's pagemap names a pages member, each pagemap's head decoded once.
package final class PagesOwners {
  /// The `pages_id` of each pagemap seen.
  private var pagesIDs: [String: UInt32] = [:]

  package init() {}

  /// The process whose pagemap names `member` (`pages-<id>.img` of the image directory) in the checkpoint read so
  /// far, when exactly one process's pagemap and no shared-memory object's does; else `nil`.
  package func owner(of member: String, in source: CheckpointSource) -> UInt32? {
    let prefix = source.imagePrefix
    let base = Path.base(of: member)
    guard CheckpointLayout.isPages(member), member == prefix + base, case .pages(let pagesID)? = CRIUImage(name: base)
    else { return nil }
    var owners: [UInt32] = []
    let pagemapPrefix = prefix + CRIUImage.Kind.pagemap.prefix!
    for name in source.members.keys where name.hasPrefix(pagemapPrefix) && name.hasSuffix(CRIUImage.suffix) {
      if pagesIDs[name] == nil {
        guard let bytes = try? source.bytes(of: name), let id = try? PageMap.pagesID(ofImage: bytes) else {
          return nil
        }
        pagesIDs[name] = id
      }
      guard pagesIDs[name] == pagesID else { continue }
      guard case .pagemap(let pid)? = CRIUImage(name: String(name.dropFirst(prefix.count))) else { return nil }
      owners.append(pid)
    }
    return owners.count == 1 ? owners.first : nil
  }
}

/// A process's pages member handed to a consumer as it is decompressed; afterwards its bytes are gone (reads
/// fail, naming the member).
final class StreamedPages: MemberReceiver, RandomAccessBytes {
  let source: String
  let member: String
  private let memory: ProcessMemory
  private let kept: SparseBytes?
  private var consume: ((ProcessMemory) throws -> Void)?

  init(
    source: String, member: String, memory: ProcessMemory, keeping kept: SparseBytes?,
    consume: @escaping (ProcessMemory) throws -> Void
  ) {
    self.source = source
    self.member = member
    self.memory = memory
    self.kept = kept
    self.consume = consume
  }

  func receive(from reader: ArchiveReader) throws -> (bytes: RandomAccessBytes, size: Int64) {
    let pages = ForwardMember(reader: reader, source: source, member: member, keeping: kept)
    guard let pageMap = memory.privateMemory?.pageMap else { preconditionFailure("a streamed process has pages") }
    try consume?(
      ProcessMemory(
        pid: memory.pid, vmas: memory.vmas, privateMemory: MemoryReader(pageMap: pageMap, pages: pages),
        sharedMappings: memory.sharedMappings))
    return (self, try pages.finish())
  }

  /// Lets go of the consumer once it has had the pages (it does not outlive the pass).
  func release() { consume = nil }

  /// Reads of the kept ranges; any other read fails, naming the member.
  func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    guard let kept, kept.keeps(position) else { throw CheckpointError.notLoaded(source: source, member: member) }
    return try kept.read(into: buffer, at: position)
  }
}

/// The member being decompressed, read at ever larger offsets: bytes skipped over are read and dropped.
final class ForwardMember: RandomAccessBytes {
  private let reader: ArchiveReader
  private let source: String
  private let member: String
  /// Bytes of the member read so far.
  private(set) var position: Int64 = 0
  private var scratch: UnsafeMutableRawBufferPointer?
  /// Ranges of the member to keep as they pass by.
  private let kept: SparseBytes?

  init(
    reader: ArchiveReader, source: String, member: String, keeping kept: SparseBytes?
  ) {
    self.reader = reader
    self.source = source
    self.member = member
    self.kept = kept
  }

  deinit { scratch?.deallocate() }

  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    // Never happens to a consumer that reads in address order: the pass checked that pages are in that order.
    guard offset >= position else { throw CheckpointError.notLoaded(source: source, member: member) }
    while position < offset {
      if try skip(Int(min(offset - position, 1 << 18))) == 0 { return 0 }
    }
    var filled = 0
    while filled < buffer.count {
      let n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
      if n == 0 { break }
      filled += n
    }
    kept?.keep(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]), at: position)
    position += Int64(filled)
    return filled
  }

  /// Reads the rest of the member; returns its size.
  func finish() throws -> Int64 {
    while try skip(1 << 18) > 0 {}
    return position
  }

  /// Reads and drops up to `count` bytes; returns how many there were.
  private func skip(_ count: Int) throws -> Int {
    let buffer = scratch ?? UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
    scratch = buffer
    let n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(count, buffer.count)]))
    kept?.keep(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), at: position)
    position += Int64(n)
    return n
  }
}
