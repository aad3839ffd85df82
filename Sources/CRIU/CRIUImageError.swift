import SystemSupport

/// Errors raised while decoding or encoding CRIU images. Offsets are byte offsets in the image file.
public enum CRIUImageError: Error, Equatable, CustomStringConvertible {
  /// The data ends before a field that must be there.
  case truncated(offset: Int, needed: Int, available: Int)
  /// The first bytes are no magic this tool knows, and the file name names no raw image.
  case unknownMagic(offset: Int, found: UInt32)
  /// The image is of another kind than the caller asked for.
  case unexpectedKind(expected: String, found: String)
  /// An entry's size field claims more bytes than the file has left.
  case oversizedEntry(offset: Int, size: UInt32, remaining: Int)
  /// An entry's protobuf payload does not decode.
  case invalidEntry(offset: Int, reason: String)
  /// An entry's extra payload size is out of range.
  case invalidExtra(offset: Int, reason: String)
  /// The image holds raw data (memory pages, a tarball, an ip-tool dump), not protobuf entries.
  case rawImage(String)
  /// JSON given to `encode` does not describe an image.
  case invalidJSON(String)

  public var description: String {
    switch self {
    case .truncated(let offset, let needed, let available):
      return "image is truncated at byte \(offset): \(needed) bytes needed, \(available) left"
    case .unknownMagic(let offset, let found):
      return "unknown magic 0x\(String(found, radix: 16)) at byte \(offset)"
    case .unexpectedKind(let expected, let found):
      return "expected a \(expected) image, found \(found)"
    case .oversizedEntry(let offset, let size, let remaining):
      return "entry at byte \(offset) claims \(size) bytes but only \(remaining) are left"
    case .invalidEntry(let offset, let reason):
      return "entry at byte \(offset) is not valid: \(reason)"
    case .invalidExtra(let offset, let reason):
      return "extra data of the entry at byte \(offset) is not valid: \(reason)"
    case .rawImage(let kind):
      return "\(kind) is a raw image, not protobuf entries"
    case .invalidJSON(let reason):
      return "invalid image JSON: \(reason)"
    }
  }
}

extension OrderedJSON {
  /// Parses the JSON of an image (crit's, or swift-protobuf's of one entry); bad text is
  /// ``CRIUImageError/invalidJSON(_:)``.
  init(imageJSON text: String) throws(CRIUImageError) {
    do {
      try self.init(parsing: text)
    } catch {
      throw .invalidJSON(error.reason)
    }
  }
}
