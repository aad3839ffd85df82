import FoundationEssentials
import SwiftProtobuf
import SystemSupport

/// The value type of a protobuf field, as crit's conversion tells them apart.
public enum CritFieldType: Sendable {
  /// `int32`, `sint32`, `sfixed32`, `int64`, `sint64`, `sfixed64` of `bits` bits.
  case signed(bits: Int)
  /// `uint32`, `fixed32`, `uint64`, `fixed64` of `bits` bits.
  case unsigned(bits: Int)
  /// `bool`.
  case bool
  /// `string`.
  case string
  /// `bytes`.
  case bytes
  /// An enum (written by value name).
  case enumeration
  /// A nested message of the given type.
  case message(any Message.Type)
  /// A kind crit does not convert (float, double, group, map, extension); named for messages.
  case unsupported(String)
}

/// One field of a message: number, proto name, value type and whether it is repeated.
public struct CritField: Sendable {
  /// The field number.
  public let number: Int
  /// The field's name in the `.proto` file (crit's JSON key).
  public let name: String
  /// The value type.
  public let type: CritFieldType
  /// True for `repeated` fields.
  public let repeated: Bool
}

/// The fields of a generated message type, found at run time from the generated code itself.
///
/// Generated messages decode themselves by asking a `Decoder` for field numbers and then calling the typed
/// decode method of each known number. A probe decoder offers every number up to ``maxFieldNumber`` and notes
/// which typed method answers (which gives the type and, for nested messages, their Swift type); a second probe
/// sets each found field and reads its name back from swift-protobuf's own JSON. Results are cached per type.
public final class CritSchema: @unchecked Sendable {
  /// Field numbers above this are not looked for (CRIU's largest is below 64).
  public static let maxFieldNumber = 1024

  /// The message's full proto name (`criu.VmaEntry`).
  public let messageName: String
  /// The fields in field-number order.
  public let fields: [CritField]
  private let byName: [String: CritField]

  private init(messageName: String, fields: [CritField]) {
    self.messageName = messageName
    self.fields = fields
    self.byName = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// The field with this proto name.
  public func field(named name: String) -> CritField? { byName[name] }

  /// Schemas computed so far, shared by every thread.
  private static let cache = Cache()

  /// The schema of `type` (computed once).
  public static func of(_ type: any Message.Type) throws -> CritSchema {
    let key = ObjectIdentifier(type)
    if let cached = cache.schema(for: key) { return cached }
    let schema = try discover(type)
    cache.store(schema, for: key)
    return schema
  }

  /// A dictionary behind a lock: the one piece of state the schemas share.
  private final class Cache: @unchecked Sendable {
    private let lock = ConditionLock()
    private var schemas: [ObjectIdentifier: CritSchema] = [:]

    func schema(for key: ObjectIdentifier) -> CritSchema? { lock.withLock { schemas[key] } }
    func store(_ schema: CritSchema, for key: ObjectIdentifier) { lock.withLock { schemas[key] = schema } }
  }

  private static func discover<M: Message>(_ type: M.Type) throws -> CritSchema {
    var finder = FieldProbe(numbers: Array(1...maxFieldNumber), fill: false)
    var empty = M()
    try empty.decodeMessage(decoder: &finder)
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = true
    var fields: [CritField] = []
    for (number, found) in finder.found.sorted(by: { $0.key < $1.key }) {
      var filler = FieldProbe(numbers: [number], fill: true)
      var one = M()
      try one.decodeMessage(decoder: &filler)
      guard case .object(let members) = try OrderedJSON(imageJSON: one.jsonString(options: options)) else {
        throw CRIUImageError.invalidJSON("cannot name field \(number) of \(M.protoMessageName)")
      }
      // Groups, maps and extensions are not set by the probe; CRIU's images have none.
      if members.isEmpty, case .unsupported = found.type { continue }
      guard members.count == 1, let name = members.first?.0 else {
        throw CRIUImageError.invalidJSON("cannot name field \(number) of \(M.protoMessageName)")
      }
      fields.append(CritField(number: number, name: name, type: found.type, repeated: found.repeated))
    }
    return CritSchema(messageName: M.protoMessageName, fields: fields)
  }
}

/// A decoder that offers field numbers to a generated message and records (and optionally sets) the fields
/// the message knows.
private struct FieldProbe: SwiftProtobuf.Decoder {
  let numbers: [Int]
  /// Set each field found to a present value (so that it appears in JSON).
  let fill: Bool
  var index = 0
  var current = 0
  var found: [Int: (type: CritFieldType, repeated: Bool)] = [:]

  init(numbers: [Int], fill: Bool) {
    self.numbers = numbers
    self.fill = fill
  }

  mutating func handleConflictingOneOf() throws {}

  mutating func nextFieldNumber() throws -> Int? {
    guard index < numbers.count else { return nil }
    current = numbers[index]
    index += 1
    return current
  }

  private mutating func note(_ type: CritFieldType, repeated: Bool = false) {
    found[current] = (type, repeated)
  }

  private mutating func single<T>(_ value: inout T?, _ type: CritFieldType, _ present: T) {
    note(type)
    if fill { value = present }
  }

  private mutating func single<T>(_ value: inout T, _ type: CritFieldType, _ present: T) {
    note(type)
    if fill { value = present }
  }

  private mutating func many<T>(_ value: inout [T], _ type: CritFieldType, _ present: T) {
    note(type, repeated: true)
    if fill { value = [present] }
  }

  mutating func decodeSingularFloatField(value: inout Float) throws { single(&value, .unsupported("float"), 1) }
  mutating func decodeSingularFloatField(value: inout Float?) throws { single(&value, .unsupported("float"), 1) }
  mutating func decodeRepeatedFloatField(value: inout [Float]) throws { many(&value, .unsupported("float"), 1) }
  mutating func decodeSingularDoubleField(value: inout Double) throws { single(&value, .unsupported("double"), 1) }
  mutating func decodeSingularDoubleField(value: inout Double?) throws { single(&value, .unsupported("double"), 1) }
  mutating func decodeRepeatedDoubleField(value: inout [Double]) throws { many(&value, .unsupported("double"), 1) }
  mutating func decodeSingularInt32Field(value: inout Int32) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularInt32Field(value: inout Int32?) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeRepeatedInt32Field(value: inout [Int32]) throws { many(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularInt64Field(value: inout Int64) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularInt64Field(value: inout Int64?) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeRepeatedInt64Field(value: inout [Int64]) throws { many(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularUInt32Field(value: inout UInt32) throws { single(&value, .unsigned(bits: 32), 1) }
  mutating func decodeSingularUInt32Field(value: inout UInt32?) throws { single(&value, .unsigned(bits: 32), 1) }
  mutating func decodeRepeatedUInt32Field(value: inout [UInt32]) throws { many(&value, .unsigned(bits: 32), 1) }
  mutating func decodeSingularUInt64Field(value: inout UInt64) throws { single(&value, .unsigned(bits: 64), 1) }
  mutating func decodeSingularUInt64Field(value: inout UInt64?) throws { single(&value, .unsigned(bits: 64), 1) }
  mutating func decodeRepeatedUInt64Field(value: inout [UInt64]) throws { many(&value, .unsigned(bits: 64), 1) }
  mutating func decodeSingularSInt32Field(value: inout Int32) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularSInt32Field(value: inout Int32?) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeRepeatedSInt32Field(value: inout [Int32]) throws { many(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularSInt64Field(value: inout Int64) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularSInt64Field(value: inout Int64?) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeRepeatedSInt64Field(value: inout [Int64]) throws { many(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularFixed32Field(value: inout UInt32) throws { single(&value, .unsigned(bits: 32), 1) }
  mutating func decodeSingularFixed32Field(value: inout UInt32?) throws { single(&value, .unsigned(bits: 32), 1) }
  mutating func decodeRepeatedFixed32Field(value: inout [UInt32]) throws { many(&value, .unsigned(bits: 32), 1) }
  mutating func decodeSingularFixed64Field(value: inout UInt64) throws { single(&value, .unsigned(bits: 64), 1) }
  mutating func decodeSingularFixed64Field(value: inout UInt64?) throws { single(&value, .unsigned(bits: 64), 1) }
  mutating func decodeRepeatedFixed64Field(value: inout [UInt64]) throws { many(&value, .unsigned(bits: 64), 1) }
  mutating func decodeSingularSFixed32Field(value: inout Int32) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularSFixed32Field(value: inout Int32?) throws { single(&value, .signed(bits: 32), 1) }
  mutating func decodeRepeatedSFixed32Field(value: inout [Int32]) throws { many(&value, .signed(bits: 32), 1) }
  mutating func decodeSingularSFixed64Field(value: inout Int64) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularSFixed64Field(value: inout Int64?) throws { single(&value, .signed(bits: 64), 1) }
  mutating func decodeRepeatedSFixed64Field(value: inout [Int64]) throws { many(&value, .signed(bits: 64), 1) }
  mutating func decodeSingularBoolField(value: inout Bool) throws { single(&value, .bool, true) }
  mutating func decodeSingularBoolField(value: inout Bool?) throws { single(&value, .bool, true) }
  mutating func decodeRepeatedBoolField(value: inout [Bool]) throws { many(&value, .bool, true) }
  mutating func decodeSingularStringField(value: inout String) throws { single(&value, .string, "x") }
  mutating func decodeSingularStringField(value: inout String?) throws { single(&value, .string, "x") }
  mutating func decodeRepeatedStringField(value: inout [String]) throws { many(&value, .string, "x") }
  mutating func decodeSingularBytesField(value: inout Data) throws { single(&value, .bytes, Data([1])) }
  mutating func decodeSingularBytesField(value: inout Data?) throws { single(&value, .bytes, Data([1])) }
  mutating func decodeRepeatedBytesField(value: inout [Data]) throws { many(&value, .bytes, Data([1])) }

  mutating func decodeSingularEnumField<E: Enum>(value: inout E) throws where E.RawValue == Int {
    single(&value, .enumeration, E())
  }
  mutating func decodeSingularEnumField<E: Enum>(value: inout E?) throws where E.RawValue == Int {
    single(&value, .enumeration, E())
  }
  mutating func decodeRepeatedEnumField<E: Enum>(value: inout [E]) throws where E.RawValue == Int {
    many(&value, .enumeration, E())
  }

  mutating func decodeSingularMessageField<M: Message>(value: inout M?) throws {
    single(&value, .message(M.self), M())
  }
  mutating func decodeRepeatedMessageField<M: Message>(value: inout [M]) throws {
    many(&value, .message(M.self), M())
  }
  mutating func decodeSingularGroupField<G: Message>(value: inout G?) throws { note(.unsupported("group")) }
  mutating func decodeRepeatedGroupField<G: Message>(value: inout [G]) throws {
    note(.unsupported("group"), repeated: true)
  }

  mutating func decodeMapField<KeyType, ValueType: MapValueType>(
    fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: inout _ProtobufMap<KeyType, ValueType>.BaseType
  ) throws { note(.unsupported("map")) }
  mutating func decodeMapField<KeyType, ValueType>(
    fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: inout _ProtobufEnumMap<KeyType, ValueType>.BaseType
  ) throws where ValueType.RawValue == Int { note(.unsupported("map")) }
  mutating func decodeMapField<KeyType, ValueType>(
    fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
    value: inout _ProtobufMessageMap<KeyType, ValueType>.BaseType
  ) throws { note(.unsupported("map")) }

  mutating func decodeExtensionField(
    values: inout ExtensionFieldValueSet, messageType: any Message.Type, fieldNumber: Int
  ) throws { note(.unsupported("extension")) }
}
