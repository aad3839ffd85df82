import CheckpointKit

/// Writes memory as `%016x  16 hex bytes  |ascii|` rows, as upstream's memparse does.
///
/// In compact mode a row whose 16 bytes equal the previous row's is replaced by one `*` line, and the last
/// row of such a run is printed where a range ends, so `*` never stands for different bytes or for a gap.
public final class HexDump {
  /// The column header and its rule.
  public static let header =
    "Address           Hexadecimal                                       ASCII            \n"
    + String(repeating: "-", count: 85) + "\n"

  private let compact: Bool
  private let sink: (UnsafeRawBufferPointer) throws -> Void
  private let output: UnsafeMutableRawBufferPointer
  private var used = 0
  /// The last printed row (compact mode), kept to compare the next one with.
  private let previous = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
  private var hasPrevious = false
  private var previousAddress: UInt64 = 0
  private var inRun = false
  /// Row length: 16 address digits, 2 spaces, 16 × 3 hex columns, 2 spaces, `|`, 16 characters, `|`, newline.
  static let rowLength = 85
  private static let capacity = 1 << 20
  /// Two hex digits per byte value, and the printable form of each byte value.
  private static let hexPairs: [UInt16] = (0..<256).map { value in
    let digits = Array("0123456789abcdef".utf8)
    return UInt16(digits[value >> 4]) | UInt16(digits[value & 0xF]) << 8
  }
  private static let printable: [UInt8] = (0..<256).map { (0x20..<0x7F).contains($0) ? UInt8($0) : UInt8(ascii: ".") }

  /// One row as text, without its newline: `%016x`, the hex bytes (up to 16, padded), `|ascii|`.
  public static func row(address: UInt64, bytes: [UInt8]) -> String {
    let digits = String(address, radix: 16)
    var text = String(repeating: "0", count: max(0, 16 - digits.count)) + digits + "  "
    for index in 0..<16 {
      if index < bytes.count {
        let pair = hexPairs[Int(bytes[index])]
        text += String(decoding: [UInt8(pair & 0xFF), UInt8(pair >> 8)], as: UTF8.self) + " "
      } else {
        text += "   "
      }
    }
    return text + " |" + String(decoding: bytes.prefix(16).map { printable[Int($0)] }, as: UTF8.self) + "|"
  }

  /// A dump that hands text to `sink` in blocks of about 1 MiB.
  public init(compact: Bool, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
    self.compact = compact
    self.sink = sink
    output = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.capacity + 4 * Self.rowLength, alignment: 16)
  }

  deinit {
    output.deallocate()
    previous.deallocate()
  }

  /// Dumps `bytes` found at `address` (a contiguous part of a range).
  public func write(address: UInt64, bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let count = min(16, bytes.count - offset)
      let row = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
      let rowAddress = address + UInt64(offset)
      if compact && count == 16 && hasPrevious && Self.equal(previous, row) {
        if !inRun {
          appendText("*\n")
          inRun = true
        }
        previousAddress = rowAddress
      } else {
        inRun = false
        append(row: row, address: rowAddress)
        if compact {
          hasPrevious = count == 16
          if hasPrevious { previous.copyMemory(from: row) }
        }
      }
      offset += count
      if used >= Self.capacity { try flush() }
    }
  }

  /// Ends a contiguous range: a collapsed run is closed by printing its last row.
  public func endRange() {
    if inRun { append(row: UnsafeRawBufferPointer(previous), address: previousAddress) }
    inRun = false
    hasPrevious = false
  }

  /// Writes what is buffered.
  public func flush() throws {
    guard used > 0 else { return }
    try sink(UnsafeRawBufferPointer(rebasing: output[0..<used]))
    used = 0
  }

  private static func equal(_ a: UnsafeMutableRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.load(fromByteOffset: 0, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
      && a.load(fromByteOffset: 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
  }

  private func appendText(_ text: String) {
    for byte in text.utf8 {
      output[used] = byte
      used += 1
    }
  }

  private func append(row: UnsafeRawBufferPointer, address: UInt64) {
    guard let base = output.baseAddress else { return }
    let line = base + used
    Self.hexPairs.withUnsafeBufferPointer { pairs in
      for index in 0..<8 {
        let byte = Int((address >> UInt64(56 - index * 8)) & 0xFF)
        line.storeBytes(of: pairs[byte], toByteOffset: index * 2, as: UInt16.self)
      }
      line.storeBytes(of: 0x2020, toByteOffset: 16, as: UInt16.self)
      for index in 0..<16 {
        let column = 18 + index * 3
        if index < row.count {
          line.storeBytes(of: pairs[Int(row[index])], toByteOffset: column, as: UInt16.self)
        } else {
          line.storeBytes(of: 0x2020, toByteOffset: column, as: UInt16.self)
        }
        line.storeBytes(of: 0x20, toByteOffset: column + 2, as: UInt8.self)
      }
    }
    // Columns 66–67: the space after the last hex pair is at 65; then " |".
    line.storeBytes(of: 0x20, toByteOffset: 66, as: UInt8.self)
    line.storeBytes(of: UInt8(ascii: "|"), toByteOffset: 67, as: UInt8.self)
    Self.printable.withUnsafeBufferPointer { table in
      for index in 0..<row.count {
        line.storeBytes(of: table[Int(row[index])], toByteOffset: 68 + index, as: UInt8.self)
      }
    }
    line.storeBytes(of: UInt8(ascii: "|"), toByteOffset: 68 + row.count, as: UInt8.self)
    line.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: 69 + row.count, as: UInt8.self)
    used += 70 + row.count
  }
}
