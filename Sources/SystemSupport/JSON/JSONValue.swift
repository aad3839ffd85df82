import FoundationEssentials

/// Any JSON value, kept whole so that fields this tool does not know survive a rewrite.
public enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case integer(Int64)
  case unsigned(UInt64)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// Parses JSON text.
  public init(parsing bytes: [UInt8]) throws {
    self = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
  }

  /// The string, if this is one.
  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The object, if this is one.
  public var objectValue: [String: JSONValue]? {
    if case .object(let value) = self { return value }
    return nil
  }

  /// The elements, if this is an array.
  public var arrayValue: [JSONValue]? {
    if case .array(let value) = self { return value }
    return nil
  }

  /// The integer, if this is one that fits in 64 signed bits.
  public var integerValue: Int64? {
    switch self {
    case .integer(let value): return value
    case .unsigned(let value): return Int64(exactly: value)
    default: return nil
    }
  }

  /// A short name of the value's type, for messages.
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .integer, .unsigned, .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }
}

extension JSONValue: Codable {
  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int64.self) {
      self = .integer(value)
    } else if let value = try? container.decode(UInt64.self) {
      self = .unsigned(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .integer(let value): try container.encode(value)
    case .unsigned(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

extension JSONValue {
  /// JSON text indented by two spaces per level, as Go's `json.MarshalIndent(v, "", "  ")` writes it.
  ///
  /// Object keys listed in `keyOrder` come first, in that order; the others follow sorted, so the output is
  /// deterministic.
  public func formatted(keyOrder: [String] = []) -> String {
    let rank = Dictionary(keyOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    var output = ""
    write(to: &output, indent: "", rank: rank)
    return output
  }

  /// A float as Go's `encoding/json` writes it: integral values below 1e21 in plain digits (the shortest digits
  /// that identify the value, padded with zeros: 2^64 is `18446744073709551616` as a float is
  /// `18446744073709552000`), others as Swift's shortest form.
  static func goNumber(_ value: Double) -> String {
    if let exact = Int64(exactly: value) { return String(exact) }
    guard value.rounded() == value, abs(value) < 1e21 else { return String(value) }
    // Integral and at least 2^63 in magnitude: Swift writes `d.ddde+NN`; spell out the exponent.
    let text = String(value)
    guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]) else { return text }
    let sign = text.hasPrefix("-") ? "-" : ""
    let digits = text[..<e].filter(\.isNumber)
    return sign + digits + String(repeating: "0", count: max(0, exponent + 1 - digits.count))
  }

  private func write(to output: inout String, indent: String, rank: [String: Int]) {
    switch self {
    case .null: output += "null"
    case .bool(let value): output += value ? "true" : "false"
    case .integer(let value): output += String(value)
    case .unsigned(let value): output += String(value)
    case .number(let value):
      output += JSONValue.goNumber(value)
    case .string(let value): output += JSONValue.quote(value)
    case .array(let values):
      if values.isEmpty {
        output += "[]"
        return
      }
      output += "[\n"
      let inner = indent + "  "
      for (index, value) in values.enumerated() {
        output += inner
        value.write(to: &output, indent: inner, rank: rank)
        output += index == values.count - 1 ? "\n" : ",\n"
      }
      output += indent + "]"
    case .object(let members):
      if members.isEmpty {
        output += "{}"
        return
      }
      output += "{\n"
      let inner = indent + "  "
      let keys = members.keys.sorted { left, right in
        switch (rank[left], rank[right]) {
        case (let l?, let r?): return l < r
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return left < right
        }
      }
      for (index, key) in keys.enumerated() {
        output += inner + JSONValue.quote(key) + ": "
        members[key, default: .null].write(to: &output, indent: inner, rank: rank)
        output += index == keys.count - 1 ? "\n" : ",\n"
      }
      output += indent + "}"
    }
  }

  /// A JSON string literal for `text`, as Go's `encoding/json` writes it (without its HTML escapes): `\"`, `\\`,
  /// `\n`, `\r`, `\t`, other control characters, U+2028 and U+2029 as `\u` and four hex digits.
  public static func quote(_ text: String) -> String { JSONString.literal(text, escaping: .lineSeparators) }
}

// MARK: Go's member lookup

extension JSONValue {
  /// The key under which Go's `encoding/json` finds a struct field named `name` in `members`: `name` itself,
  /// else the first key (in sorted order) equal to it ignoring case.
  public static func key(_ name: String, in members: [String: JSONValue]) -> String? {
    if members[name] != nil { return name }
    let lower = name.lowercased()
    return members.keys.sorted().first { $0.lowercased() == lower }
  }

  /// The member of `members` that Go's `encoding/json` reads as the field `name` (see ``key(_:in:)``).
  public static func member(_ name: String, in members: [String: JSONValue]) -> JSONValue? {
    key(name, in: members).flatMap { members[$0] }
  }

  /// The member of this object that Go's `encoding/json` reads as the field `name` (see ``key(_:in:)``);
  /// `nil` when it has none or this is not an object.
  public func member(_ name: String) -> JSONValue? {
    objectValue.flatMap { Self.member(name, in: $0) }
  }
}
