import Archive

/// A content digest as OCI writes it: `sha256:` and 64 lowercase hex digits (the only algorithm accepted).
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
  /// The 64 lowercase hex digits.
  public let hex: String

  /// Parses `sha256:<64 lowercase hex>`; anything else is `nil` (a digest from JSON or a registry is hostile).
  public init?(_ text: String) {
    guard text.hasPrefix("sha256:") else { return nil }
    let hex = text.dropFirst("sha256:".count)
    guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
    else { return nil }
    self.hex = String(hex)
  }

  /// The digest of `bytes`.
  public init<Bytes: Sequence>(of bytes: Bytes) where Bytes.Element == UInt8 {
    var hasher = DigestHasher()
    hasher.update(Array(bytes))
    self = hasher.finalize()
  }

  /// A digest from 64 lowercase hex digits that a hasher computed.
  init(computedHex hex: String) {
    self.hex = hex
  }

  /// `sha256:<hex>`.
  public var description: String { "sha256:" + hex }

  /// Orders digests by their text.
  public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }
}

/// SHA-256 over bytes that arrive in pieces, as an OCI digest (Archive's hasher).
public struct DigestHasher {
  private var hasher = SHA256Hasher()
  /// Bytes hashed so far.
  public var count: Int64 { hasher.count }

  /// A hasher that has seen nothing.
  public init() {}

  /// Adds `bytes`.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bytes) }

  /// Adds `bytes`.
  public mutating func update(_ bytes: [UInt8]) { hasher.update(bytes) }

  /// The digest of everything added.
  public func finalize() -> Digest { Digest(computedHex: hasher.finalize()) }
}
