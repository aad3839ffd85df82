import CRIU
import CheckpointKit
import Foundation
import SystemSupport
import TestSupport
import Testing

@Suite struct ImageFileTests {
  /// Every protobuf image of every fixture decodes, re-encodes byte for byte, and survives decode's JSON.
  @Test(arguments: FixtureImages.all)
  func everyImageRoundTrips(_ fixture: String) throws {
    let source = try FixtureImages.open(fixture)
    let names = FixtureImages.protobufImages(source)
    #expect(names.count >= 12, "\(names)")
    for name in names {
      let bytes = try source.bytes(of: source.imagePrefix + name)
      let image = try ImageFile(decoding: bytes)
      #expect(try image.encoded() == bytes, "\(fixture):\(name) binary round trip")
      let json = try ImageJSON.decode(image)
      let again = try ImageJSON.encode(Array(json.utf8))
      #expect(try again.encoded() == bytes, "\(fixture):\(name) JSON round trip")
      // Every pretty rendering succeeds and is valid JSON.
      _ = try OrderedJSON(parsing: try ImageJSON.decode(image, pretty: true))
    }
  }

  @Test func kindComesFromTheMagic() throws {
    let source = try FixtureImages.open("busybox-sleep.tar")
    let expected = [
      "pstree.img": "PSTREE", "core-1.img": "CORE", "inventory.img": "INVENTORY", "mm-1.img": "MM",
      "pagemap-1.img": "PAGEMAP", "files.img": "FILES", "fdinfo-2.img": "FDINFO", "fs-1.img": "FS",
      "ids-1.img": "IDS", "cgroup.img": "CGROUP", "seccomp.img": "SECCOMP", "timens-0.img": "TIMENS",
    ]
    for (name, kind) in expected {
      #expect(try source.image(name).kind.name == kind, "\(name)")
    }
    // stats-dump sits at the archive root with the service prefix.
    #expect(try ImageFile(decoding: source.bytes(of: "stats-dump")).kind.name == "STATS")
    // A renamed image is still what its magic says.
    let pstree = try source.bytes(of: "checkpoint/pstree.img")
    let json = try ImageDecodingHelper.decode(bytes: pstree, as: "core-99.img")
    #expect(json.hasPrefix(#"{"magic": "PSTREE""#))
  }

  @Test func everyPrefixThrowsOrEndsOnAnEntry() throws {
    let source = try FixtureImages.open("busybox-ptree.tar")
    for name in ["core-1.img", "mm-1.img", "pagemap-1.img", "files.img", "inventory.img", "pstree.img"] {
      let bytes = try source.bytes(of: "checkpoint/" + name)
      let full = try ImageFile(decoding: bytes)
      // Valid cuts: right after the magic, or between entries.
      let header = full.kind.prefix == .bare ? 4 : 8
      let boundaries = Set(full.entries.map(\.offset) + [header, bytes.count])
      for length in 0..<bytes.count {
        let prefix = Array(bytes[0..<length])
        do {
          let partial = try ImageFile(decoding: prefix)
          // Only a cut exactly between entries is a valid (shorter) image.
          #expect(boundaries.contains(length), "\(name) cut at \(length)")
          #expect(partial.entries.count <= full.entries.count)
        } catch is CRIUImageError {
        }
      }
    }
  }

  @Test func hostileSizesAndMagicsGiveTypedErrors() throws {
    // A size claiming 4 GiB in a 1 KiB file.
    var huge: [UInt8] = [0x19, 0x43, 0x56, 0x54, 0x30, 0x30, 0x27, 0x50, 0xFF, 0xFF, 0xFF, 0xFF]
    huge += [UInt8](repeating: 0, count: 1012)
    #expect(throws: CRIUImageError.oversizedEntry(offset: 8, size: 0xFFFF_FFFF, remaining: 1012)) {
      try ImageFile(decoding: huge)
    }
    #expect(throws: CRIUImageError.unknownMagic(offset: 4, found: 0x1234_5678)) {
      try ImageFile(decoding: [0x19, 0x43, 0x56, 0x54, 0x78, 0x56, 0x34, 0x12])
    }
    #expect(throws: CRIUImageError.unknownMagic(offset: 0, found: 0xDEAD_BEEF)) {
      try ImageFile(decoding: [0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0])
    }
    #expect(throws: CRIUImageError.truncated(offset: 0, needed: 4, available: 2)) { try ImageFile(decoding: [1, 2]) }
    // Garbage protobuf inside a valid frame.
    let garbage: [UInt8] = [0x19, 0x43, 0x56, 0x54, 0x30, 0x30, 0x27, 0x50, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF]
    #expect(throws: CRIUImageError.self) { try ImageFile(decoding: garbage) }
    // A tcp-stream entry whose queue lengths exceed the file.
    var stream = TcpStreamEntry()
    stream.inqLen = 1 << 30
    let framed = try ImageFile(
      kind: try #require(ImageKind.named("TCP_STREAM")), entries: [ImageEntry(message: stream, extra: [], offset: 0)]
    ).encoded()
    #expect(throws: CRIUImageError.self) { try ImageFile(decoding: framed) }
  }

  @Test func extraPayloadsSurvive() throws {
    let net = try FixtureImages.open("debian-net.tar.gz")
    let streams = net.memberNames.filter { $0.contains("tcp-stream-") }
    #expect(!streams.isEmpty)
    var found = false
    for name in streams {
      let image = try ImageFile(decoding: net.bytes(of: name))
      let entry = try #require(image.entries.first)
      let stream = try #require(entry.message as? TcpStreamEntry)
      #expect(entry.extra?.count == Int(stream.inqLen + stream.outqLen))
      if let extra = entry.extra, String(decoding: extra, as: UTF8.self).contains("NETNEEDLE_tcp_inflight_51c2") {
        found = true
        let json = try ImageJSON.decode(image)
        #expect(json.contains(#""extra": {"inq": ""#))
      }
    }
    #expect(found)
    let fifo = try FixtureImages.open("busybox-ptree.tar").image("fifo-data.img")
    #expect(fifo.kind.name == "FIFO_DATA")
    let data = try #require(fifo.entries.first)
    #expect(data.extra?.count == Int((data.message as? PipeDataEntry)?.bytes ?? 0))
  }
}

/// Decodes bytes as if they were a file of the given name.
enum ImageDecodingHelper {
  static func decode(bytes: [UInt8], as name: String) throws -> String {
    let directory = try TemporaryDirectory()
    try Files.write(bytes, to: directory.file(name))
    guard case .text(let text) = try ImageDecoding.decode(directory.file(name), pretty: false) else {
      throw CheckpointError.notAnImage(name)
    }
    return text
  }
}
