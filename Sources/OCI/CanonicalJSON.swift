/// JSON written byte for byte the same every time: objects keep the order they are built in (callers sort maps),
/// no spaces, strings escaped as Go's `encoding/json` escapes them except for HTML characters. Digests of
/// manifests depend on these bytes, so the same image always has the same digest.
public indirect enum CanonicalJSON: Equatable, Sendable {
  case string(String)
  case integer(Int64)
  case bool(Bool)
  case null
  case array([CanonicalJSON])
  case object([(String, CanonicalJSON)])

  /// An object from a string map, keys sorted.
  public static func sorted(_ map: [String: String]) -> CanonicalJSON {
    .object(map.keys.sorted().map { ($0, .string(map[$0] ?? "")) })
  }

  /// The serialised bytes.
  public var bytes: [UInt8] {
    var out: [UInt8] = []
    write(to: &out)
    return out
  }

  private func write(to out: inout [UInt8]) {
    switch self {
    case .string(let text): Self.writeString(text, to: &out)
    case .integer(let value): out.append(contentsOf: String(value).utf8)
    case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
    case .null: out.append(contentsOf: "null".utf8)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (index, item) in items.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        Self.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        value.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  private static func writeString(_ text: String, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), byte])
      case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), byte])
      case 0x0a: out.append(contentsOf: Array("\\n".utf8))
      case 0x0d: out.append(contentsOf: Array("\\r".utf8))
      case 0x09: out.append(contentsOf: Array("\\t".utf8))
      case 0..<0x20:
        out.append(contentsOf: Array("\\u00".utf8))
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0x0f)])
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Compares serialised forms (object member order matters).
  public static func == (lhs: CanonicalJSON, rhs: CanonicalJSON) -> Bool { lhs.bytes == rhs.bytes }
}
