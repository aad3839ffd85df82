import FoundationEssentials
import SwiftProtobuf
import SystemSupport

/// Messages in crit's dictionary form (pycriu's `pb2dict` and `dict2pb`), field by field:
///
/// - keys are the `.proto` field names, only fields that are set appear, enums are written by value name;
/// - integers (64-bit too) are JSON numbers, booleans and strings as such;
/// - bytes are `base64.encodebytes` text (76-character lines, each ended by `\n`), except unix socket names,
///   which are quoted-printable;
/// - with `pretty`, integers follow the field's ``CritOption``: hex (inherited by everything inside a hex message
///   field), flag names, `major:minor`, table names (`task_state`, socket family/type/state/protocol), and
///   addresses as a one-element array of text.
///
/// Reading accepts both forms: an integer field takes a number or a string (`"0x1f"`, `"PROT_READ | PROT_EXEC"`,
/// `"0:44"`, `"LISTEN"`, anything Python's `int(text, 0)` reads), and an address field takes a one-element array
/// of address text. Every number is checked against its field's type; fractions, exponents and out-of-range values
/// are errors.
public enum CritJSON {
  static var encodingOptions: JSONEncodingOptions {
    var options = JSONEncodingOptions()
    options.alwaysPrintInt64sAsNumbers = true
    options.preserveProtoFieldNames = true
    return options
  }

  // MARK: Message to dictionary

  /// The message as crit's `pb2dict(message, pretty)` gives it.
  public static func object(_ message: any Message, pretty: Bool) throws -> OrderedJSON {
    let json = try OrderedJSON(imageJSON: message.jsonString(options: encodingOptions))
    return try render(json, type: type(of: message), pretty: pretty, hex: false)
  }

  static func render(_ value: OrderedJSON, type: any Message.Type, pretty: Bool, hex: Bool) throws -> OrderedJSON {
    guard case .object(let members) = value else { return value }
    let schema = try CritSchema.of(type)
    return .object(
      try members.map { key, value in
        guard let field = schema.field(named: key) else { return (key, value) }
        let option = CritOption.of(message: schema.messageName, field: key)
        let rendered = try render(value, field: field, option: option, pretty: pretty, hex: hex || option.hex)
        return (key, rendered)
      })
  }

  static func render(_ value: OrderedJSON, field: CritField, option: CritOption, pretty: Bool, hex: Bool) throws
    -> OrderedJSON
  {
    guard field.repeated, case .array(let items) = value else {
      return try renderOne(value, field: field, option: option, pretty: pretty, hex: hex)
    }
    if pretty && option.ipadd {
      // crit reads one word as IPv4 and the first four as IPv6 (it fails on two or three).
      let words = items.compactMap { item -> UInt32? in
        if case .number(let text) = item { return UInt32(text) }
        return nil
      }
      if words.count == items.count, words.count == 1 || words.count >= 4,
        let text = CritText.address(Array(words.prefix(words.count == 1 ? 1 : 4)))
      {
        return .array([.string(text)])
      }
    }
    return .array(try items.map { try renderOne($0, field: field, option: option, pretty: pretty, hex: hex) })
  }

  static func renderOne(_ value: OrderedJSON, field: CritField, option: CritOption, pretty: Bool, hex: Bool) throws
    -> OrderedJSON
  {
    switch field.type {
    case .message(let type):
      return try render(value, type: type, pretty: pretty, hex: hex)
    case .bytes:
      guard case .string(let text) = value, let data = Data(base64Encoded: text) else { return value }
      let bytes = [UInt8](data)
      return .string(option.conv == "unix_name" ? CritText.quotedPrintable(bytes) : CritText.base64Lines(bytes))
    case .signed, .unsigned:
      guard pretty, case .number(let text) = value, let number = CritInteger(json: text) else { return value }
      return prettyInteger(number, field: field, option: option, hex: hex)
    default:
      return value
    }
  }

  static func prettyInteger(_ number: CritInteger, field: CritField, option: CritOption, hex: Bool) -> OrderedJSON {
    if hex { return .string(number.hex) }
    // Device, flag and table fields are all unsigned.
    guard !number.negative else { return .number(number.decimal) }
    if option.dev { return .string(CritText.device(number.magnitude, old: option.odev)) }
    if let flags = option.flags {
      // crit shows flags of an unknown table in hex.
      guard let table = CritOption.flagTables[flags] else { return .string(number.hex) }
      return .string(CritText.flagNames(number.magnitude, table: table))
    }
    if let dict = option.dict, let name = CritOption.dictTables[dict]?[field.name]?[number.magnitude] {
      return .string(name)
    }
    return .number(number.decimal)
  }

  // MARK: Dictionary to message

  /// The message of type `type` that crit's `dict2pb` builds from `value` (pretty or not).
  ///
  /// Errors name the JSON path of the offending value, after `path`.
  public static func message(_ value: OrderedJSON, type: any Message.Type, path: String = "") throws -> any Message {
    let canonical = try canonical(value, type: type, path: path)
    var options = JSONDecodingOptions()
    options.ignoreUnknownFields = false
    do {
      return try type.init(jsonString: canonical.rendered(), options: options)
    } catch {
      throw CRIUImageError.invalidJSON("\(path.isEmpty ? "" : path + ": ")\(error)")
    }
  }

  /// swift-protobuf's JSON for crit's dictionary: integers as numbers, bytes as plain base64.
  static func canonical(_ value: OrderedJSON, type: any Message.Type, path: String) throws -> OrderedJSON {
    guard case .object(let members) = value else { throw failure(path, "is \(describe(value)), not an object") }
    let schema = try CritSchema.of(type)
    var result: [(String, OrderedJSON)] = []
    for (key, item) in members {
      let here = path.isEmpty ? key : path + "." + key
      guard let field = schema.field(named: key) else {
        throw failure(here, "is not a field of \(schema.messageName)")
      }
      let option = CritOption.of(message: schema.messageName, field: key)
      result.append((key, try canonical(item, field: field, option: option, path: here)))
    }
    return .object(result)
  }

  static func canonical(_ value: OrderedJSON, field: CritField, option: CritOption, path: String) throws
    -> OrderedJSON
  {
    guard field.repeated else { return try canonicalOne(value, field: field, option: option, path: path) }
    guard case .array(let items) = value else { throw failure(path, "is \(describe(value)), not an array") }
    if option.ipadd, case .string(let text)? = items.first {
      // crit reads the first element only.
      do {
        return .array(try CritText.addressWords(text).map { .number(String($0)) })
      } catch let error as CritValueError {
        throw failure(path + "[0]", error.message)
      }
    }
    return .array(
      try items.enumerated().map { index, item in
        try canonicalOne(item, field: field, option: option, path: "\(path)[\(index)]")
      })
  }

  static func canonicalOne(_ value: OrderedJSON, field: CritField, option: CritOption, path: String) throws
    -> OrderedJSON
  {
    do {
      switch (field.type, value) {
      case (.message(let type), _):
        return try canonical(value, type: type, path: path)
      case (.bytes, .string(let text)):
        let bytes =
          option.conv == "unix_name" ? try CritText.unquotedPrintable(text) : try CritText.base64Bytes(text)
        return .string(Data(bytes).base64EncodedString())
      case (.enumeration, .string), (.bool, .bool), (.string, .string):
        return value
      case (.enumeration, .number(let text)):
        return try checked(try jsonInteger(text), .signed(bits: 32))
      case (.signed, .number(let text)), (.unsigned, .number(let text)):
        return try checked(try jsonInteger(text), field.type)
      case (.signed, .string(let text)), (.unsigned, .string(let text)):
        return try checked(try integer(text, field: field, option: option), field.type)
      case (.unsupported(let kind), _):
        throw CritValueError("\(kind) fields are not supported")
      default:
        throw CritValueError("is \(describe(value)), not \(describe(field.type))")
      }
    } catch let error as CritValueError {
      throw failure(path, error.message)
    }
  }

  /// An integer field's string as `dict2pb` reads it: device, flags, table name, else `int(text, 0)`.
  static func integer(_ text: String, field: CritField, option: CritOption) throws -> CritInteger {
    if option.dev { return try CritText.deviceNumber(text, old: option.odev) }
    if let flags = option.flags, let table = CritOption.flagTables[flags] {
      return try CritText.flagValue(text, table: table)
    }
    if let dict = option.dict, let table = CritOption.dictTables[dict]?[field.name],
      let value = table.first(where: { $0.value == text })?.key
    {
      return CritInteger(value)
    }
    return try CritText.integer(text, prefixed: true)
  }

  static func checked(_ number: CritInteger, _ type: CritFieldType) throws -> OrderedJSON {
    guard number.fits(type) else { throw CritValueError("\(number.decimal) is out of range for \(describe(type))") }
    return .number(number.decimal)
  }

  /// A JSON number that is an integer, `-?(0|[1-9][0-9]*)`: no fraction or exponent, at most 64 bits.
  static func jsonInteger(_ text: String) throws -> CritInteger {
    let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
    guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
      digits.count == 1 || !digits.hasPrefix("0")
    else { throw CritValueError("\(text) is not an integer") }
    guard let magnitude = UInt64(digits) else { throw CritValueError("\(text) is out of range") }
    return CritInteger(negative: text.hasPrefix("-"), magnitude: magnitude)
  }

  static func failure(_ path: String, _ message: String) -> CRIUImageError {
    .invalidJSON(path.isEmpty ? message : "\(path): \(message)")
  }

  static func describe(_ value: OrderedJSON) -> String {
    switch value {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }

  static func describe(_ type: CritFieldType) -> String {
    switch type {
    case .signed(let bits): return "int\(bits)"
    case .unsigned(let bits): return "uint\(bits)"
    case .bool: return "a boolean"
    case .string: return "a string"
    case .bytes: return "bytes (a string)"
    case .enumeration: return "an enum name"
    case .message: return "an object"
    case .unsupported(let kind): return kind
    }
  }
}
