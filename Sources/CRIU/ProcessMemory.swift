/// A process's memory as its VMAs describe it: private pages from its own pagemap, anonymous shared memory
/// from the `pagemap-shmem-<shmid>` of the object it maps.
public final class ProcessMemory {
  /// VMA status bit for anonymous shared mappings (`shmid` is the shared-memory object).
  public static let anonymousShared: UInt32 = 1 << 8
  /// VMA status bit for memfd mappings (`shmid` is a file id; CRIU 4 also dumps MAP_SHARED|MAP_ANONYMOUS
  /// memory this way, as a memfd of `/dev/zero`).
  public static let memfd: UInt32 = 1 << 14

  /// The process id.
  public let pid: UInt32
  /// The process's VMAs, in address order.
  public let vmas: [VmaEntry]
  /// Private memory.
  public let privateMemory: MemoryReader?
  /// The shared-memory object each shared VMA maps, by the VMA's start address; the object is addressed by
  /// offset (`address - start + pgoff`).
  public let sharedMappings: [UInt64: MemoryReader]

  /// Memory of `pid` from its VMAs and readers.
  public init(pid: UInt32, vmas: [VmaEntry], privateMemory: MemoryReader?, sharedMappings: [UInt64: MemoryReader]) {
    self.pid = pid
    self.vmas = vmas.sorted { $0.start < $1.start }
    self.privateMemory = privateMemory
    self.sharedMappings = sharedMappings
  }

  /// What the memory is made of, without its bytes: the VMAs and every pagemap's regions. Two memories with the
  /// same layout read the same pages from the same places.
  public struct Layout: Equatable {
    public var vmas: [VmaEntry]
    public var privatePages: PageMap?
    public var sharedPages: [UInt64: PageMap]
  }

  /// The memory's layout.
  public var layout: Layout {
    Layout(vmas: vmas, privatePages: privateMemory?.pageMap, sharedPages: sharedMappings.mapValues(\.pageMap))
  }

  /// The VMA holding `address`.
  public func vma(containing address: UInt64) -> VmaEntry? {
    var low = 0
    var high = vmas.count
    while low < high {
      let middle = (low + high) / 2
      if vmas[middle].end <= address { low = middle + 1 } else { high = middle }
    }
    guard low < vmas.count, vmas[low].start <= address else { return nil }
    return vmas[low]
  }

  /// A run of readable memory.
  public struct Range: Equatable, Sendable {
    /// First address.
    public var address: UInt64
    /// Length in bytes.
    public var length: UInt64
    /// True for pages of a shared-memory object.
    public var isShared: Bool

    /// A run of `length` bytes at `address`.
    public init(address: UInt64, length: UInt64, isShared: Bool) {
      self.address = address
      self.length = length
      self.isShared = isShared
    }
  }

  /// Every readable run of memory in address order: private pages in this image or its parent, and the pages
  /// of the shared objects the VMAs map (lazy pages, which are not in the image, are left out).
  public func ranges() -> [Range] {
    var result: [Range] = []
    if let privateMemory {
      let size = UInt64(privateMemory.pageMap.pageSize)
      for region in privateMemory.pageMap.regions where region.fileOffset != nil || region.flags.contains(.parent) {
        result.append(Range(address: region.address, length: region.pageCount * size, isShared: false))
      }
    }
    for vma in vmas {
      guard let shared = sharedMappings[vma.start] else { continue }
      let size = UInt64(shared.pageMap.pageSize)
      let window = vma.pgoff..<(vma.pgoff + (vma.end - vma.start))
      for region in shared.pageMap.regions where region.fileOffset != nil || region.flags.contains(.parent) {
        let lower = max(region.address, window.lowerBound)
        let upper = min(region.address + region.pageCount * size, window.upperBound)
        if lower < upper {
          result.append(Range(address: vma.start + (lower - vma.pgoff), length: upper - lower, isShared: true))
        }
      }
    }
    return result.sorted { $0.address < $1.address }
  }

  /// Reads `count` bytes at `address`, from shared or private pages as the VMAs say.
  public func read(address: UInt64, count: Int) throws -> [UInt8] {
    var result = [UInt8](repeating: 0, count: count)
    try result.withUnsafeMutableBytes { try read(address: address, into: $0) }
    return result
  }

  /// Fills `buffer` with the memory at `address`.
  public func read(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
    let count = buffer.count
    var done = 0
    while done < count {
      let current = address &+ UInt64(done)
      let vma = vma(containing: current)
      let limit = vma.map { Int(min(UInt64(count - done), $0.end - current)) } ?? (count - done)
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + limit])
      if let vma, let shared = sharedMappings[vma.start] {
        try shared.read(address: current - vma.start + vma.pgoff, into: part)
      } else if let privateMemory {
        try privateMemory.read(address: current, into: part)
      } else {
        throw MemoryError.unmapped(address: current)
      }
      done += limit
    }
  }
}
