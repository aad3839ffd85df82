import SwiftProtobuf
import SystemSupport

/// Errors raised while reading process memory.
public enum MemoryError: Error, Equatable, CustomStringConvertible {
  /// No present page covers the address.
  case unmapped(address: UInt64)
  /// The pages file ends before a page the pagemap places in it.
  case shortPages(address: UInt64, fileOffset: Int64)
  /// The page lives in a parent (pre-dump) image that is not available.
  case missingParent(address: UInt64)
  /// The page is on a lazy-pages server, not in the image.
  case lazy(address: UInt64)

  public var description: String {
    switch self {
    case .unmapped(let address): return "no memory page at 0x\(String(address, radix: 16))"
    case .shortPages(let address, let fileOffset):
      return "pages file ends before the page of 0x\(String(address, radix: 16)) (offset \(fileOffset))"
    case .missingParent(let address):
      return "the page of 0x\(String(address, radix: 16)) is in the parent checkpoint, which is not available"
    case .lazy(let address):
      return "the page of 0x\(String(address, radix: 16)) was left on a lazy-pages server"
    }
  }
}

/// A process's (or a shared-memory object's) pages, from its pagemap image: which virtual ranges have pages
/// and where each page is in `pages-<pages_id>.img`.
public struct PageMap: Sendable, Equatable {
  /// Pagemap entry flags.
  public struct Flags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The pages are in the parent (pre-dump) image.
    public static let parent = Flags(rawValue: 1)
    /// The pages were left for lazy restore.
    public static let lazy = Flags(rawValue: 2)
    /// The pages are in this image's pages file.
    public static let present = Flags(rawValue: 4)
  }

  /// A run of pages.
  public struct Region: Sendable, Equatable {
    /// First virtual address (for shared memory: offset in the object).
    public var address: UInt64
    /// Number of pages.
    public var pageCount: UInt64
    /// Where the pages are.
    public var flags: Flags
    /// Byte offset of the first page in the pages file, when the pages are in it.
    public var fileOffset: Int64?

    /// One past the last address.
    public func end(pageSize: Int) -> UInt64 { address &+ pageCount &* UInt64(pageSize) }
  }

  /// The `pages_id` of the head: the pages file is `pages-<pagesID>.img`.
  public var pagesID: UInt32
  /// The regions, in address order.
  public var regions: [Region]
  /// The dumping host's page size.
  public var pageSize: Int

  /// Reads a pagemap image, applying CRIU's compatibility rules: `nr_pages` (field 5) falls back to
  /// `compat_nr_pages` (field 2) of CRIU < 4, and absent `flags` mean PE_PARENT when `in_parent` is set, else
  /// PE_PRESENT.
  public init(image: ImageFile, pageSize: Int = 4096) throws {
    guard image.kind.name == "PAGEMAP", let head = image.head as? PagemapHead else {
      throw CRIUImageError.unexpectedKind(expected: "PAGEMAP", found: image.kind.name)
    }
    self.pageSize = pageSize
    pagesID = head.pagesID
    var offset: Int64 = 0
    var regions: [Region] = []
    for entry in image.entries {
      guard let message = entry.message as? PagemapEntry else { continue }
      let count = message.hasNrPages ? message.nrPages : UInt64(message.compatNrPages)
      let flags: Flags =
        message.hasFlags
        ? Flags(rawValue: message.flags) : (message.hasInParent && message.inParent ? .parent : .present)
      // Every region must end inside the 64-bit address space: its end is used in arithmetic everywhere.
      let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(pageSize))
      guard !overflow, message.vaddr <= UInt64.max - bytes else {
        throw CRIUImageError.invalidEntry(
          offset: entry.offset,
          reason: "\(count) pages at 0x\(String(message.vaddr, radix: 16)) end beyond the address space")
      }
      var region = Region(address: message.vaddr, pageCount: count, flags: flags, fileOffset: nil)
      if flags.contains(.present) && !flags.contains(.parent) {
        region.fileOffset = offset
        guard bytes < UInt64(Int64.max) - UInt64(offset) else {
          throw CRIUImageError.invalidEntry(offset: entry.offset, reason: "nr_pages \(count) is out of range")
        }
        offset += Int64(bytes)
      }
      regions.append(region)
    }
    self.regions = regions.sorted { $0.address < $1.address }
    // Lookups are binary searches: regions must not overlap (CRIU never writes overlapping entries).
    for (previous, next) in zip(self.regions, self.regions.dropFirst())
    where next.address < previous.end(pageSize: pageSize) {
      throw CRIUImageError.invalidEntry(
        offset: 0, reason: "pages at 0x\(String(next.address, radix: 16)) overlap the previous entry")
    }
  }

  /// The `pages_id` of a pagemap image, from its head entry alone (without decoding the other entries).
  public static func pagesID(ofImage bytes: [UInt8]) throws -> UInt32 {
    guard let kind = ImageFile.kind(ofPrefix: bytes.prefix(8)), kind.name == "PAGEMAP" else {
      throw CRIUImageError.unexpectedKind(expected: "PAGEMAP", found: "another image")
    }
    var cursor = ByteCursor(bytes)
    _ = try cursor.readBytes(8)
    let head = try cursor.readSizedEntry()
    do {
      return try PagemapHead(serializedBytes: head, partial: true).pagesID
    } catch {
      throw CRIUImageError.invalidEntry(offset: 8, reason: "\(error)")
    }
  }

  /// Bytes of pages held in the pages file.
  public var presentBytes: Int64 {
    regions.reduce(0) { $0 + ($1.fileOffset == nil ? 0 : Int64($1.pageCount) * Int64(pageSize)) }
  }

  /// The region holding `address`.
  public func region(containing address: UInt64) -> Region? {
    var low = 0
    var high = regions.count
    while low < high {
      let middle = (low + high) / 2
      if regions[middle].end(pageSize: pageSize) <= address { low = middle + 1 } else { high = middle }
    }
    guard low < regions.count, regions[low].address <= address else { return nil }
    return regions[low]
  }
}

/// Reads virtual memory through a pagemap and its pages file, without loading whole files; pages marked
/// PE_PARENT are read from the parent checkpoint's reader.
public final class MemoryReader {
  /// The pagemap.
  public let pageMap: PageMap
  private let pages: RandomAccessBytes
  private let parent: MemoryReader?

  /// A reader over `pages` (`pages-<pageMap.pagesID>.img`), with the parent checkpoint's reader if any.
  public init(pageMap: PageMap, pages: RandomAccessBytes, parent: MemoryReader? = nil) {
    self.pageMap = pageMap
    self.pages = pages
    self.parent = parent
  }

  /// Reads `count` bytes at `address`; every byte must be backed by a page.
  public func read(address: UInt64, count: Int) throws -> [UInt8] {
    var result = [UInt8](repeating: 0, count: count)
    try result.withUnsafeMutableBytes { try read(address: address, into: $0) }
    return result
  }

  /// Fills `buffer` with the memory at `address`.
  public func read(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
    var done = 0
    while done < buffer.count {
      let current = address &+ UInt64(done)
      guard let region = pageMap.region(containing: current) else { throw MemoryError.unmapped(address: current) }
      let available = Int(min(UInt64(buffer.count - done), region.end(pageSize: pageMap.pageSize) - current))
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + available])
      if let base = region.fileOffset {
        let offset = base + Int64(current - region.address)
        let n = try pages.read(into: part, at: offset)
        guard n == available else { throw MemoryError.shortPages(address: current, fileOffset: offset) }
      } else if region.flags.contains(.parent) {
        guard let parent else { throw MemoryError.missingParent(address: current) }
        try parent.read(address: current, into: part)
      } else {
        throw MemoryError.lazy(address: current)
      }
      done += available
    }
  }
}
