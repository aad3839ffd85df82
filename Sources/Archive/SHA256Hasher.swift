import Crypto
import SystemSupport

/// SHA-256 over bytes that arrive in pieces (swift-crypto): layer digests, archive member hashes.
public struct SHA256Hasher {
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

  /// The digest of everything added, as 64 lowercase hex digits.
  public func finalize() -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in hasher.finalize() {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
  }
}
