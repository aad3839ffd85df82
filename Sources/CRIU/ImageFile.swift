import FoundationEssentials
import SwiftProtobuf

/// One decoded entry of an image.
public struct ImageEntry: @unchecked Sendable {
  /// The protobuf message.
  public var message: any Message
  /// Raw bytes that followed the entry (pipe data, socket queues, …), if the image kind has them.
  public var extra: [UInt8]?
  /// Where the entry's size field starts in the file.
  public var offset: Int

  /// An entry with its extra bytes; `offset` is 0 for entries not read from a file.
  public init(message: any Message, extra: [UInt8]? = nil, offset: Int = 0) {
    self.message = message
    self.extra = extra
    self.offset = offset
  }
}

/// A decoded CRIU protobuf image: its kind and its entries.
///
/// Decoding is bounds-checked: every size is compared with the bytes left before anything is sliced or
/// allocated, and every failure is a ``CRIUImageError`` carrying the byte offset.
public struct ImageFile: @unchecked Sendable {
  /// The image kind, from the magic.
  public var kind: ImageKind
  /// The head entry of images that have one (pagemap).
  public var head: (any Message)?
  /// The entries after the head.
  public var entries: [ImageEntry]

  /// Creates an image from parts (for `encode`).
  public init(kind: ImageKind, head: (any Message)? = nil, entries: [ImageEntry]) {
    self.kind = kind
    self.head = head
    self.entries = entries
  }

  /// The kind of an image from its first eight bytes, or `nil` when they carry no known magic.
  public static func kind(ofPrefix bytes: some Collection<UInt8>) -> ImageKind? {
    var cursor = ByteCursor(Array(bytes.prefix(8)))
    guard let first = try? cursor.readUInt32() else { return nil }
    if let kind = ImageKind.with(magic: first), kind.prefix == .bare { return kind }
    guard first == ImageMagic.common || first == ImageMagic.service, let second = try? cursor.readUInt32(),
      let kind = ImageKind.with(magic: second)
    else { return nil }
    return (kind.prefix == .service) == (first == ImageMagic.service) ? kind : nil
  }

  /// Decodes a whole image.
  public init(decoding bytes: [UInt8]) throws {
    var cursor = ByteCursor(bytes)
    let first = try cursor.readUInt32()
    let kind: ImageKind
    if let bare = ImageKind.with(magic: first), bare.prefix == .bare {
      kind = bare
    } else if first == ImageMagic.common || first == ImageMagic.service {
      let offset = cursor.offset
      let second = try cursor.readUInt32()
      guard let found = ImageKind.with(magic: second), (found.prefix == .service) == (first == ImageMagic.service)
      else { throw CRIUImageError.unknownMagic(offset: offset, found: second) }
      kind = found
    } else {
      throw CRIUImageError.unknownMagic(offset: 0, found: first)
    }
    self.kind = kind
    head = nil
    entries = []
    var options = BinaryDecodingOptions()
    options.messageDepthLimit = 64
    while !cursor.isAtEnd {
      let offset = cursor.offset
      let payload = try cursor.readSizedEntry()
      let type = kind.messageType(at: (head == nil ? 0 : 1) + entries.count, first: head ?? entries.first?.message)
      let message: any Message
      do {
        message = try type.init(serializedBytes: payload, partial: true, options: options)
      } catch {
        throw CRIUImageError.invalidEntry(offset: offset, reason: "\(error)")
      }
      if kind.headType != nil && head == nil && entries.isEmpty {
        head = message
        continue
      }
      let extra = try kind.extra.read(after: message, from: &cursor, entryOffset: offset)
      entries.append(ImageEntry(message: message, extra: extra, offset: offset))
    }
  }

  /// The kind and entry count of an image, walking the framing only: protobuf payloads are decoded just for
  /// kinds whose entries are followed by extra bytes (their length is in the entry).
  public static func scan(_ bytes: [UInt8]) throws -> (kind: ImageKind, entries: Int) {
    guard let kind = kind(ofPrefix: bytes.prefix(8)) else {
      return (try ImageFile(decoding: bytes).kind, 0)
    }
    if case .none = kind.extra {
      var cursor = ByteCursor(bytes)
      _ = try cursor.readBytes(kind.prefix == .bare ? 4 : 8)
      var count = 0
      while !cursor.isAtEnd {
        _ = try cursor.readSizedEntry()
        count += 1
      }
      return (kind, kind.headType == nil ? count : max(0, count - 1))
    }
    return (kind, try ImageFile(decoding: bytes).entries.count)
  }

  /// Decodes an image, requiring it to be of `kind`.
  public init(decoding bytes: [UInt8], expecting kind: ImageKind) throws {
    self = try ImageFile(decoding: bytes)
    guard self.kind == kind else { throw CRIUImageError.unexpectedKind(expected: kind.name, found: self.kind.name) }
  }

  /// The entries' messages as `type` (entries of another type are skipped).
  public func messages<M: Message>(_ type: M.Type) -> [M] {
    entries.compactMap { $0.message as? M }
  }

  /// The image bytes: prefix, magic, and each entry framed with its size, followed by its extra bytes.
  public func encoded() throws -> [UInt8] {
    var output: [UInt8] = []
    switch kind.prefix {
    case .bare: output.appendUInt32(kind.magic)
    case .common:
      output.appendUInt32(ImageMagic.common)
      output.appendUInt32(kind.magic)
    case .service:
      output.appendUInt32(ImageMagic.service)
      output.appendUInt32(kind.magic)
    }
    func append(_ message: any Message) throws {
      let bytes: [UInt8] = try message.serializedBytes(partial: true)
      output.appendUInt32(UInt32(bytes.count))
      output.append(contentsOf: bytes)
    }
    if let head { try append(head) }
    for entry in entries {
      try append(entry.message)
      if let extra = entry.extra { output.append(contentsOf: extra) }
    }
    return output
  }
}

extension ExtraPayload {
  /// Reads the raw bytes that belong to `message`, checking every length against what is left.
  func read(after message: any Message, from cursor: inout ByteCursor, entryOffset: Int) throws -> [UInt8]? {
    switch self {
    case .none:
      return nil
    case .sized(let length):
      guard let count = length(message), count >= 0 else {
        throw CRIUImageError.invalidExtra(offset: entryOffset, reason: "no length")
      }
      return try cursor.readBytes(count)
    case .tcpQueues:
      guard let stream = message as? TcpStreamEntry else {
        throw CRIUImageError.invalidExtra(offset: entryOffset, reason: "not a tcp stream entry")
      }
      return try cursor.readBytes(Int(stream.inqLen) + Int(stream.outqLen))
    case .ghost:
      if let chunk = message as? GhostChunkEntry {
        guard let count = Int(exactly: chunk.len), count <= cursor.remaining else {
          throw CRIUImageError.invalidExtra(offset: entryOffset, reason: "chunk of \(chunk.len) bytes")
        }
        return try cursor.readBytes(count)
      }
      if (message as? GhostFileEntry)?.chunks == true { return nil }
      return try cursor.readBytes(cursor.remaining)
    }
  }
}

/// A bounds-checked little-endian reader over a byte array.
public struct ByteCursor {
  private let bytes: [UInt8]
  /// The current position.
  public private(set) var offset = 0

  /// A reader at the start of `bytes`.
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Bytes left.
  public var remaining: Int { bytes.count - offset }
  /// True when nothing is left.
  public var isAtEnd: Bool { offset >= bytes.count }

  /// Reads a little-endian `u32`.
  public mutating func readUInt32() throws -> UInt32 {
    guard remaining >= 4 else { throw CRIUImageError.truncated(offset: offset, needed: 4, available: remaining) }
    let value =
      UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
      | UInt32(bytes[offset + 3]) << 24
    offset += 4
    return value
  }

  /// Reads `count` bytes.
  public mutating func readBytes(_ count: Int) throws -> [UInt8] {
    guard count >= 0, count <= remaining else {
      throw CRIUImageError.truncated(offset: offset, needed: count, available: remaining)
    }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  /// Reads a `u32` size and that many bytes, refusing sizes larger than what is left.
  public mutating func readSizedEntry() throws -> ArraySlice<UInt8> {
    let start = offset
    let size = try readUInt32()
    guard Int(size) <= remaining else {
      throw CRIUImageError.oversizedEntry(offset: start, size: size, remaining: remaining)
    }
    defer { offset += Int(size) }
    return bytes[offset..<offset + Int(size)]
  }
}

extension Array where Element == UInt8 {
  mutating func appendUInt32(_ value: UInt32) {
    append(UInt8(truncatingIfNeeded: value))
    append(UInt8(truncatingIfNeeded: value >> 8))
    append(UInt8(truncatingIfNeeded: value >> 16))
    append(UInt8(truncatingIfNeeded: value >> 24))
  }
}
