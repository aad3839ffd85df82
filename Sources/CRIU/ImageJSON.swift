import Foundation
import SwiftProtobuf

/// crit-compatible JSON for images: `{"magic": NAME, "entries": [ … ]}` with proto field names, integers (64-bit
/// too) as numbers, enums by name, bytes as base64, only the fields present, and raw payloads under `extra`.
public enum ImageJSON {
  static var encodingOptions: JSONEncodingOptions {
    var options = JSONEncodingOptions()
    options.alwaysPrintInt64sAsNumbers = true
    options.preserveProtoFieldNames = true
    return options
  }

  /// The image as crit's `decode` writes it (one line), or for people with `pretty` (see ``PrettyImage``).
  public static func decode(_ image: ImageFile, pretty: Bool = false) throws -> String {
    var entries: [OrderedJSON] = []
    if let head = image.head { entries.append(try json(head)) }
    for entry in image.entries {
      var object = try json(entry.message)
      if let extra = entry.extra, case .object(var members) = object {
        members.append(("extra", extraJSON(extra, entry: entry, kind: image.kind)))
        object = .object(members)
      }
      entries.append(object)
    }
    var document = OrderedJSON.object([("magic", .string(image.kind.name)), ("entries", .array(entries))])
    if pretty { document = PrettyImage.transform(document, kind: image.kind) }
    return document.rendered(indent: pretty ? 4 : nil) + "\n"
  }

  /// Turns decode's (non-pretty) JSON back into an image.
  public static func encode(_ text: [UInt8]) throws -> ImageFile {
    let document: JSONValue
    do {
      document = try JSONValue(parsing: text)
    } catch {
      throw CRIUImageError.invalidJSON("not valid JSON")
    }
    guard let name = document.objectValue?["magic"]?.stringValue else {
      throw CRIUImageError.invalidJSON("no \"magic\" name")
    }
    guard let kind = ImageKind.named(name) else { throw CRIUImageError.invalidJSON("unknown magic \(quote(name))") }
    guard let values = document.objectValue?["entries"]?.arrayValue else {
      throw CRIUImageError.invalidJSON("no \"entries\" array")
    }
    var image = ImageFile(kind: kind, entries: [])
    var options = JSONDecodingOptions()
    options.ignoreUnknownFields = false
    for (index, value) in values.enumerated() {
      guard var object = value.objectValue else { throw CRIUImageError.invalidJSON("entry \(index) is not an object") }
      let extra = try object.removeValue(forKey: "extra").map { try extraBytes($0, kind: kind, index: index) }
      let isHead = index == 0 && kind.headType != nil
      let type = isHead ? (kind.headType ?? kind.entryType) : kind.entryType
      let message: any Message
      do {
        message = try type.init(jsonString: JSONValue.object(object).formatted(), options: options)
      } catch {
        throw CRIUImageError.invalidJSON("entry \(index): \(error)")
      }
      if isHead {
        image.head = message
      } else {
        image.entries.append(ImageEntry(message: message, extra: extra, offset: 0))
      }
    }
    return image
  }

  /// A message as ordered JSON.
  static func json(_ message: any Message) throws -> OrderedJSON {
    try OrderedJSON(parsing: message.jsonString(options: encodingOptions))
  }

  static func extraJSON(_ extra: [UInt8], entry: ImageEntry, kind: ImageKind) -> OrderedJSON {
    if case .tcpQueues = kind.extra, let stream = entry.message as? TcpStreamEntry {
      let inq = Int(stream.inqLen)
      return .object([
        ("inq", .string(Data(extra.prefix(inq)).base64EncodedString())),
        ("outq", .string(Data(extra.dropFirst(inq)).base64EncodedString())),
      ])
    }
    return .string(Data(extra).base64EncodedString())
  }

  static func extraBytes(_ value: JSONValue, kind: ImageKind, index: Int) throws -> [UInt8] {
    func decode(_ text: String?) throws -> [UInt8] {
      guard let text, let data = Data(base64Encoded: text) else {
        throw CRIUImageError.invalidJSON("entry \(index): extra is not base64")
      }
      return [UInt8](data)
    }
    if case .object(let queues) = value {
      return try decode(queues["inq"]?.stringValue) + decode(queues["outq"]?.stringValue)
    }
    return try decode(value.stringValue)
  }

  private static func quote(_ text: String) -> String { JSONValue.quote(text) }
}
