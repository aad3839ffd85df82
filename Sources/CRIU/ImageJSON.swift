import FoundationEssentials
import SwiftProtobuf
import SystemSupport

/// Images as crit's JSON: `{"magic": NAME, "entries": [ … ]}`, each entry in crit's dictionary form (see
/// ``CritJSON``) with raw payloads under `extra` (`base64.encodebytes` text; tcp queues as `{"inq", "outq"}`).
public enum ImageJSON {
  /// The image as `crit decode` writes it: one line, or with `pretty` (`crit decode --pretty`) indented by four
  /// spaces with crit's renderings. Text is escaped as Python's `json` does (non-ASCII as `\uXXXX`).
  public static func decode(_ image: ImageFile, pretty: Bool = false) throws -> String {
    try document(image, pretty: pretty).rendered(indent: pretty ? 4 : nil) + "\n"
  }

  /// The image as crit's JSON document.
  public static func document(_ image: ImageFile, pretty: Bool) throws -> OrderedJSON {
    var entries: [OrderedJSON] = []
    if let head = image.head { entries.append(try CritJSON.object(head, pretty: pretty)) }
    for entry in image.entries {
      var object = try CritJSON.object(entry.message, pretty: pretty)
      if let extra = entry.extra, case .object(var members) = object {
        members.append(("extra", extraJSON(extra, entry: entry, kind: image.kind)))
        object = .object(members)
      }
      entries.append(object)
    }
    return .object([("magic", .string(image.kind.name)), ("entries", .array(entries))])
  }

  /// Turns crit's JSON (`crit decode` output, with or without `--pretty`) back into an image, as `crit encode`
  /// does.
  public static func encode(_ text: [UInt8]) throws -> ImageFile {
    guard let string = String(bytes: text, encoding: .utf8) else {
      throw CRIUImageError.invalidJSON("not UTF-8 text")
    }
    let document: OrderedJSON
    do {
      document = try OrderedJSON(imageJSON: string)
    } catch {
      throw CRIUImageError.invalidJSON("not valid JSON (\(error))")
    }
    guard case .string(let name)? = document["magic"] else { throw CRIUImageError.invalidJSON("no \"magic\" name") }
    guard let kind = ImageKind.named(name) else { throw CRIUImageError.invalidJSON("unknown magic \(quote(name))") }
    guard case .array(let values)? = document["entries"] else {
      throw CRIUImageError.invalidJSON("no \"entries\" array")
    }
    var image = ImageFile(kind: kind, entries: [])
    for (index, value) in values.enumerated() {
      guard case .object(var members) = value else {
        throw CRIUImageError.invalidJSON("entries[\(index)] is not an object")
      }
      var extra: [UInt8]?
      if let position = members.lastIndex(where: { $0.0 == "extra" }) {
        extra = try extraBytes(members[position].1, index: index)
        members.removeAll { $0.0 == "extra" }
      }
      let isHead = index == 0 && kind.headType != nil
      let type = kind.messageType(at: index, first: image.head ?? image.entries.first?.message)
      let message = try CritJSON.message(.object(members), type: type, path: "entries[\(index)]")
      // crit writes a ghost file's contents only when it has no chunks.
      if let ghost = message as? GhostFileEntry, ghost.chunks { extra = nil }
      if isHead {
        image.head = message
      } else {
        image.entries.append(ImageEntry(message: message, extra: extra, offset: 0))
      }
    }
    return image
  }

  static func extraJSON(_ extra: [UInt8], entry: ImageEntry, kind: ImageKind) -> OrderedJSON {
    if case .tcpQueues = kind.extra, let stream = entry.message as? TcpStreamEntry {
      let inq = min(Int(stream.inqLen), extra.count)
      return .object([
        ("inq", .string(CritText.base64Lines(Array(extra.prefix(inq))))),
        ("outq", .string(CritText.base64Lines(Array(extra.dropFirst(inq))))),
      ])
    }
    return .string(CritText.base64Lines(extra))
  }

  static func extraBytes(_ value: OrderedJSON, index: Int) throws -> [UInt8] {
    func decode(_ value: OrderedJSON?, _ path: String) throws -> [UInt8] {
      guard case .string(let text)? = value else {
        throw CRIUImageError.invalidJSON("entries[\(index)].\(path) is not a base64 string")
      }
      do {
        return try CritText.base64Bytes(text)
      } catch let error as CritValueError {
        throw CRIUImageError.invalidJSON("entries[\(index)].\(path): \(error.message)")
      }
    }
    if case .object = value { return try decode(value["inq"], "extra.inq") + decode(value["outq"], "extra.outq") }
    return try decode(value, "extra")
  }

  private static func quote(_ text: String) -> String { JSONValue.quote(text) }
}
