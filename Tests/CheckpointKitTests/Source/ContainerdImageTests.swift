import CheckpointKit
import OCI
import TestSupport
import Testing

/// containerd's spec blob, a protobuf `Any`, decoded with every length bounded.
@Suite struct ContainerdAnyTests {
  /// The spec blob of `containerd-native-checkpoint.oci.tar`, checked against its digest.
  static func specBlob() throws -> [UInt8] {
    let archive = try OCIArchiveFile(path: Fixtures.path("containerd/containerd-native-checkpoint.oci.tar"))
    let digest = try #require(Digest("sha256:ce0843746c9381df111efabc65be25f091ebd87c841f8dea9cc5677a3818b73d"))
    return try archive.blob(Descriptor(mediaType: "", digest: digest, size: 2990))
  }

  static func value(_ bytes: [UInt8]) throws -> [UInt8] {
    try ContainerdImage.anyValue(bytes, source: "spec", mediaType: "config")
  }

  @Test func theValueIsTheSpec() throws {
    let spec = try Self.value(Self.specBlob())
    #expect(spec.count == 2931)
    #expect(String(decoding: spec.prefix(26), as: UTF8.self) == #"{"ociVersion":"1.0.2-dev","#)
  }

  /// Field 1 (`type_url`, 54 bytes) takes the first 56 bytes: a prefix ending there or at 0 is a valid `Any`
  /// without a value; every other prefix cuts a field and throws.
  @Test func everyTruncationThrowsOrEndsAtAField() throws {
    let blob = try Self.specBlob()
    for count in 0..<blob.count {
      let prefix = Array(blob.prefix(count))
      if count == 0 || count == 56 {
        #expect(try Self.value(prefix) == [])
      } else {
        #expect(throws: CheckpointError.self, "\(count) bytes") { try Self.value(prefix) }
      }
    }
  }

  @Test(arguments: [
    ([0x12, 0x05, 0x01], "a field of 5 bytes with 1 left"),
    (
      [0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      "a field of 18446744073709551615 bytes with 0 left"
    ),
    ([0x12] + [UInt8](repeating: 0xff, count: 11), "a varint longer than 10 bytes at byte 11"),
    ([0x0b], "wire type 3 at byte 1"),
    ([0x0d, 1, 2], "a field of 4 bytes with 2 left"),
  ])
  func hostileLengthsThrow(_ bytes: [UInt8], _ reason: String) throws {
    #expect(throws: CheckpointError.invalidBlob(source: "spec", mediaType: "config", reason: reason)) {
      try Self.value(bytes)
    }
  }
}
