import Crypto

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

  init(hash: SHA256.Digest) {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in hash {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0f)])
    }
    hex = String(decoding: text, as: UTF8.self)
  }

  /// `sha256:<hex>`.
  public var description: String { "sha256:" + hex }

  /// Orders digests by their text.
  public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }
}

/// SHA-256 over bytes that arrive in pieces (swift-crypto).
public struct DigestHasher {
  private var hasher = SHA256()
  /// Bytes hashed so far.
  public private(set) var count: Int64 = 0

  /// A hasher that has seen nothing.
  public init() {}

  /// Adds `bytes`.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: bytes)
    count += Int64(bytes.count)
  }

  /// Adds `bytes`.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The digest of everything added.
  public func finalize() -> Digest {
    Digest(hash: hasher.finalize())
  }
}
