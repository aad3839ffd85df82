import Archive
import CRIU
import SystemSupport

/// Which memory `memparse` looks at (upstream issue #208): VMA kinds, permissions and an address window.
public struct MemoryFilter: Equatable, Sendable {
  /// VMA kinds.
  public enum VMAKind: String, CaseIterable, Sendable {
    case heap, stack, anon, file, shared
  }

  /// Kinds to keep (empty: all).
  public var kinds: Set<VMAKind> = []
  /// Permissions every kept VMA must have (`r`, `w`, `x`).
  public var permissions: UInt32 = 0
  /// Addresses to keep.
  public var addresses: Range<UInt64>?

  /// No filtering.
  public init() {}

  /// A filter from command-line values: kinds as `heap,stack`, permissions as `rw`, addresses as `START-END` (hex).
  public init(kinds: [String], permissions: String?, addresses: String?) throws {
    for value in kinds.flatMap({ $0.split(separator: ",") }) {
      guard let kind = VMAKind(rawValue: value.lowercased()) else {
        throw MemoryAnalysisError.invalidFilter(
          "unknown VMA kind \(quoted(String(value))) (use \(VMAKind.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      self.kinds.insert(kind)
    }
    for character in permissions ?? "" {
      switch character {
      case "r": self.permissions |= 1
      case "w": self.permissions |= 2
      case "x": self.permissions |= 4
      case "-", "p", "s": continue
      default: throw MemoryAnalysisError.invalidFilter("unknown permission \(quoted(String(character))) (use r, w, x)")
      }
    }
    if let addresses {
      let parts = addresses.split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 2, let start = Self.hex(parts[0]), let end = Self.hex(parts[1]), start < end else {
        throw MemoryAnalysisError.invalidFilter("address range \(quoted(addresses)) is not START-END in hex")
      }
      self.addresses = start..<end
    }
  }

  private static func hex(_ text: Substring) -> UInt64? {
    let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.dropFirst(2) : text
    return digits.isEmpty ? nil : UInt64(digits, radix: 16)
  }

  /// The flags that look at VMAs (`--vma`, `--perm`), which need the process's `mm-<pid>.img`; `nil` for none.
  public var vmaFlags: String? {
    switch (kinds.isEmpty, permissions == 0) {
    case (true, true): return nil
    case (false, true): return "--vma"
    case (true, false): return "--perm"
    case (false, false): return "--vma and --perm"
    }
  }

  /// Fails, naming the image, when the filter looks at VMAs and the process has none recorded.
  public func check(_ source: CheckpointSource, pid: UInt32) throws {
    if let flags = vmaFlags { try source.requireMemoryMap(pid: pid, for: flags) }
  }

  /// The kinds a VMA belongs to.
  public static func kinds(of vma: VmaEntry) -> Set<VMAKind> {
    var result: Set<VMAKind> = []
    if vma.status & (1 << 5) != 0 { result.insert(.heap) }
    if vma.status & (1 << 1) != 0 || vma.flags & 0x100 != 0 { result.insert(.stack) }
    if vma.flags & 1 != 0 { result.insert(.shared) }
    if vma.status & ((1 << 6) | (1 << 7)) != 0 && vma.status & (1 << 14) == 0 { result.insert(.file) }
    if vma.flags & 0x20 != 0 || vma.status & (1 << 9) != 0 || vma.status & (1 << 14) != 0 { result.insert(.anon) }
    return result
  }

  /// True when the filter keeps `vma`.
  public func includes(_ vma: VmaEntry) -> Bool {
    guard vma.prot & permissions == permissions else { return false }
    return kinds.isEmpty || !kinds.isDisjoint(with: Self.kinds(of: vma))
  }

  /// The parts of `ranges` the filter keeps, merged where they touch, clipped to the address window.
  public func apply(_ ranges: [ProcessMemory.Range], memory: ProcessMemory) -> [ProcessMemory.Range] {
    var result: [ProcessMemory.Range] = []
    for range in ranges {
      var pieces: [ProcessMemory.Range] = []
      if kinds.isEmpty && permissions == 0 {
        pieces = [range]
      } else {
        // Split the range at VMA borders and keep the parts whose VMA passes.
        var address = range.address
        let end = range.address + range.length
        while address < end {
          guard let vma = memory.vma(containing: address) else { break }
          let stop = min(end, vma.end)
          if includes(vma) { pieces.append(.init(address: address, length: stop - address, isShared: range.isShared)) }
          address = stop
        }
      }
      for var piece in pieces {
        if let window = addresses {
          let lower = max(piece.address, window.lowerBound)
          let upper = min(piece.address + piece.length, window.upperBound)
          guard lower < upper else { continue }
          piece = .init(address: lower, length: upper - lower, isShared: piece.isShared)
        }
        if let last = result.last, last.address + last.length == piece.address {
          result[result.count - 1].length += piece.length
        } else {
          result.append(piece)
        }
      }
    }
    return result
  }
}
