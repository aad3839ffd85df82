/// The ELF64 pieces of a core file: header, program headers, the section header of extended numbering and
/// notes, in little-endian byte order (the only order CRIU's architectures dump in).
public enum ELFCore {
  /// `ET_CORE`.
  static let coreType: UInt16 = 4
  /// `PT_LOAD`.
  static let loadSegment: UInt32 = 1
  /// `PT_NOTE`.
  static let noteSegment: UInt32 = 4
  /// `PN_XNUM`: `e_phnum` when the real count is in the first section header's `sh_info`.
  public static let extendedNumbering = 0xffff
  /// Size of the ELF64 header.
  public static let headerSize = 64
  /// Size of one ELF64 program header.
  public static let programHeaderSize = 56
  /// Size of one ELF64 section header.
  public static let sectionHeaderSize = 64

  /// Segment permission bits (`PF_X`, `PF_W`, `PF_R`).
  public struct Permissions: OptionSet, Sendable, Hashable {
    /// The `p_flags` bits.
    public let rawValue: UInt32
    /// Permissions from `p_flags` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `PF_X`.
    public static let execute = Permissions(rawValue: 1)
    /// `PF_W`.
    public static let write = Permissions(rawValue: 2)
    /// `PF_R`.
    public static let read = Permissions(rawValue: 4)

    /// From a VMA's `prot` (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4).
    public init(prot: UInt32) {
      var value: Permissions = []
      if prot & 1 != 0 { value.insert(.read) }
      if prot & 2 != 0 { value.insert(.write) }
      if prot & 4 != 0 { value.insert(.execute) }
      self = value
    }
  }

  /// One program header.
  public struct ProgramHeader: Equatable, Sendable {
    /// `PT_LOAD` or `PT_NOTE`.
    public var type: UInt32
    /// `p_flags`.
    public var permissions: Permissions
    /// `p_offset`.
    public var offset: UInt64
    /// `p_vaddr`.
    public var address: UInt64
    /// `p_filesz`: bytes of the segment held in the file.
    public var fileSize: UInt64
    /// `p_memsz`.
    public var memorySize: UInt64
    /// `p_align`.
    public var alignment: UInt64
  }

  /// The ELF header followed by the program headers (and, past `PN_XNUM - 1` of them, the section header that
  /// holds the real count): the first `headersSize(programHeaders:)` bytes of the core.
  public static func headers(machine: UInt16, programHeaders: [ProgramHeader]) -> [UInt8] {
    var out = ByteWriter()
    let count = programHeaders.count
    let extended = count >= extendedNumbering
    let sectionOffset = headerSize + count * programHeaderSize
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE, padding.
    out.append(bytes: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    out.append(u16: coreType)
    out.append(u16: machine)
    out.append(u32: 1)  // e_version
    out.append(u64: 0)  // e_entry
    out.append(u64: UInt64(headerSize))  // e_phoff
    out.append(u64: extended ? UInt64(sectionOffset) : 0)  // e_shoff
    out.append(u32: 0)  // e_flags
    out.append(u16: UInt16(headerSize))
    out.append(u16: UInt16(programHeaderSize))
    out.append(u16: extended ? UInt16(extendedNumbering) : UInt16(count))
    out.append(u16: extended ? UInt16(sectionHeaderSize) : 0)  // e_shentsize
    out.append(u16: extended ? 1 : 0)  // e_shnum
    out.append(u16: 0)  // e_shstrndx: SHN_UNDEF
    for header in programHeaders {
      out.append(u32: header.type)
      out.append(u32: header.permissions.rawValue)
      out.append(u64: header.offset)
      out.append(u64: header.address)
      out.append(u64: 0)  // p_paddr
      out.append(u64: header.fileSize)
      out.append(u64: header.memorySize)
      out.append(u64: header.alignment)
    }
    if extended {
      // The initial section header of extended numbering: SHT_NULL, sh_size = e_shnum, sh_info = the count.
      out.append(u32: 0)  // sh_name
      out.append(u32: 0)  // sh_type
      out.append(u64: 0)  // sh_flags
      out.append(u64: 0)  // sh_addr
      out.append(u64: 0)  // sh_offset
      out.append(u64: 1)  // sh_size
      out.append(u32: 0)  // sh_link
      out.append(u32: UInt32(truncatingIfNeeded: count))  // sh_info
      out.append(u64: 0)  // sh_addralign
      out.append(u64: 0)  // sh_entsize
    }
    return out.bytes
  }

  /// Bytes taken by the headers of a core with `programHeaders` program headers.
  public static func headersSize(programHeaders: Int) -> Int {
    headerSize + programHeaders * programHeaderSize + (programHeaders >= extendedNumbering ? sectionHeaderSize : 0)
  }

  /// One ELF note: `namesz`, `descsz`, `type`, the name with its NUL and the description, each padded to 4 bytes.
  public static func note(name: String, type: UInt32, description: [UInt8]) -> [UInt8] {
    var out = ByteWriter()
    let nameBytes = Array(name.utf8) + [0]
    out.append(u32: UInt32(nameBytes.count))
    out.append(u32: UInt32(description.count))
    out.append(u32: type)
    out.append(bytes: nameBytes)
    out.pad(to: 4)
    out.append(bytes: description)
    out.pad(to: 4)
    return out.bytes
  }
}

/// Little-endian bytes appended one field at a time.
struct ByteWriter {
  private(set) var bytes: [UInt8] = []

  init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  mutating func append(u8 value: UInt8) { bytes.append(value) }
  mutating func append(u16 value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func append(u32 value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func append(i32 value: Int32) { append(u32: UInt32(bitPattern: value)) }
  mutating func append(u64 value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func append(bytes more: [UInt8]) { bytes += more }
  mutating func append(zeros count: Int) { bytes += repeatElement(0, count: max(0, count)) }

  /// `text`'s UTF-8 bytes cut or NUL-padded to exactly `count` bytes (C's fixed `char[count]`, always ending
  /// in a NUL).
  mutating func append(fixed text: [UInt8], count: Int) {
    let kept = Array(text.prefix(max(0, count - 1)))
    bytes += kept
    append(zeros: count - kept.count)
  }

  /// Zeros up to the next multiple of `alignment`.
  mutating func pad(to alignment: Int) {
    let remainder = bytes.count % alignment
    if remainder != 0 { append(zeros: alignment - remainder) }
  }

  /// Appends 64-bit words (missing ones as zero) so that exactly `count` words are written.
  mutating func append(words: [UInt64], count: Int) {
    for index in 0..<count { append(u64: index < words.count ? words[index] : 0) }
  }

  /// Appends 32-bit words (missing ones as zero) so that exactly `count` words are written.
  mutating func append(words: [UInt32], count: Int) {
    for index in 0..<count { append(u32: index < words.count ? words[index] : 0) }
  }

  /// Overwrites the 64-bit word at `offset` (used to patch sizes once known).
  mutating func set(u64 value: UInt64, at offset: Int) {
    withUnsafeBytes(of: value.littleEndian) { source in
      for (index, byte) in source.enumerated() { bytes[offset + index] = byte }
    }
  }
}
