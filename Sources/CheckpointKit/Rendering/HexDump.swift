/// Writes memory as `%016x  16 hex bytes  |ascii|` rows, as upstream's memparse does.
///
/// In compact mode a row whose 16 bytes equal the previous row's is replaced by one `*` line, and the last
/// row of such a run is printed where a range ends, so `*` never stands for different bytes or for a gap.
public struct HexDump {
  /// The column header and its rule.
  public static let header =
    "Address           Hexadecimal                                       ASCII            \n"
    + String(repeating: "-", count: 85) + "\n"

  private let compact: Bool
  private let sink: (UnsafeRawBufferPointer) throws -> Void
  private var output: [UInt8] = []
  private var previous: [UInt8] = []
  private var previousAddress: UInt64 = 0
  private var inRun = false
  private static let hexDigits = Array("0123456789abcdef".utf8)

  /// A dump that hands text to `sink` in large blocks.
  public init(compact: Bool, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
    self.compact = compact
    self.sink = sink
    output.reserveCapacity(1 << 20)
  }

  /// Dumps `bytes` found at `address` (a contiguous part of a range).
  public mutating func write(address: UInt64, bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let count = min(16, bytes.count - offset)
      let row = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
      let rowAddress = address + UInt64(offset)
      if compact && count == 16 && previous.count == 16 && previous.elementsEqual(row) {
        if !inRun {
          output.append(contentsOf: "*\n".utf8)
          inRun = true
        }
        previousAddress = rowAddress
      } else {
        inRun = false
        append(row: row, address: rowAddress)
        if compact { previous = Array(row) }
      }
      offset += count
      if output.count >= 1 << 20 { try flush() }
    }
  }

  /// Ends a contiguous range: a collapsed run is closed by printing its last row.
  public mutating func endRange() {
    if inRun {
      previous.withUnsafeBytes { append(row: $0, address: previousAddress) }
    }
    inRun = false
    previous = []
  }

  /// Writes what is buffered.
  public mutating func flush() throws {
    guard !output.isEmpty else { return }
    try output.withUnsafeBytes { try sink($0) }
    output.removeAll(keepingCapacity: true)
  }

  private mutating func append(row: UnsafeRawBufferPointer, address: UInt64) {
    let digits = Self.hexDigits
    for shift in stride(from: 60, through: 0, by: -4) {
      output.append(digits[Int((address >> UInt64(shift)) & 0xF)])
    }
    output.append(0x20)
    for index in 0..<16 {
      output.append(0x20)
      if index < row.count {
        output.append(digits[Int(row[index] >> 4)])
        output.append(digits[Int(row[index] & 0xF)])
      } else {
        output.append(0x20)
        output.append(0x20)
      }
    }
    output.append(contentsOf: "  |".utf8)
    for byte in row { output.append((0x20..<0x7F).contains(byte) ? byte : UInt8(ascii: ".")) }
    output.append(contentsOf: "|\n".utf8)
  }
}
