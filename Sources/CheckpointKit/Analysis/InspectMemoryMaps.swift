import CRIU

/// One memory mapping of a process, as `/proc/PID/maps` shows it, with its dumped size.
public struct MemoryMapping: Equatable, Sendable {
  /// First address.
  public var start: UInt64
  /// One past the last address.
  public var end: UInt64
  /// `rwxp`-style permissions (`p` private, `s` shared).
  public var permissions: String
  /// Offset in the mapped file, in bytes (`vma_entry.pgoff`).
  public var offset: UInt64
  /// A file path, `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]`, `[shmem]`, `[memfd]` or `[anon]`.
  public var name: String
  /// Bytes of the range that the process's own pagemap (`pagemap-<pid>.img`) lists: pages present in the
  /// image, in a parent image or left for lazy restore; pages of shared memory objects are not counted.
  public var resident: Int64

  /// A mapping with these fields.
  public init(start: UInt64, end: UInt64, permissions: String, offset: UInt64, name: String, resident: Int64) {
    self.start = start
    self.end = end
    self.permissions = permissions
    self.offset = offset
    self.name = name
    self.resident = resident
  }

  /// `start-end rwxp offset name` in hex, as in `/proc/PID/maps` (offset 8 digits, addresses at least 8).
  public var mapsLine: String {
    "\(Self.hex(start, width: 8))-\(Self.hex(end, width: 8)) \(permissions) \(Self.hex(offset, width: 8)) \(name)"
  }

  public static func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }

  /// The VMAs of `mm-<pid>.img` in address order, each with its pagemap-listed bytes; none when the process has
  /// no `mm` image.
  static func mappings(of pid: UInt32, in source: CheckpointSource, names: MemoryMaps) throws -> [MemoryMapping] {
    guard source.contains(CRIUImage.mm(pid: pid)) else { return [] }
    let mm = try source.memoryMap(pid: pid)
    let pagemap = CRIUImage.pagemap(pid: pid)
    let pageMap = source.contains(pagemap) ? try source.pageMap(pagemap) : nil
    return mm.vmas.sorted { $0.start < $1.start }.map { vma in
      MemoryMapping(
        start: vma.start, end: vma.end, permissions: MemoryMaps.permissions(vma), offset: vma.pgoff,
        name: names.name(of: vma), resident: pageMap.map { resident($0, from: vma.start, to: vma.end) } ?? 0)
    }
  }

  /// Bytes of `pageMap`'s regions inside `[start, end)`.
  static func resident(_ pageMap: PageMap, from start: UInt64, to end: UInt64) -> Int64 {
    var total: UInt64 = 0
    for region in pageMap.regions {
      let low = max(region.address, start)
      let high = min(region.end(pageSize: pageMap.pageSize), end)
      if high > low { total += high - low }
    }
    return Int64(clamping: total)
  }
}
