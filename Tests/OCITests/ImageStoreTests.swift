import Archive
import Glibc
import OCI
import SystemSupport
import TestSupport
import Testing

/// Storing a one-layer image and reading its layer back, in-process: an OCI archive and an OCI layout, each
/// compression, with the layer's members, digests and media type checked against what was written.
@Suite struct ImageStoreTests {
  /// Two members, written through the tar stream encoder into the file the store gives.
  static let members: [(String, [UInt8])] = [
    ("config.dump", Array(#"{"id":"x"}"#.utf8)), ("checkpoint/pages-1.img", pseudoRandomBytes(count: 300_000)),
  ]

  static func store(at destination: ImageReference, compression: ArchiveFilter) throws -> SingleLayerImage {
    try ImageStore.store(to: destination, registry: RegistryOptions(), progress: .none) { file in
      let encoder = try TarStreamEncoder(compression: compression, fd: file.rawValue, displayPath: file.displayPath)
      for (name, bytes) in members {
        try encoder.add(
          ArchiveEntry(path: name, kind: .regular, size: Int64(bytes.count), permissions: 0o600), bytes: bytes)
      }
      let layer = EncodedLayer(try encoder.finish(), compression: compression)
      return SingleLayerImage(
        layer: layer, layerFile: file, annotations: ["org.example": "yes"], platform: .host, created: nil,
        createdSeconds: 0)
    }
  }

  /// The members of the layer `path` names, read as a checkpoint source reads them.
  static func layerMembers(_ path: String) throws -> [String: [UInt8]] {
    let layer = try #require(try ImageLayer.open(path, registry: RegistryOptions()))
    var found: [String: [UInt8]] = [:]
    while let entry = try layer.reader.next() {
      guard entry.kind == .regular, let name = entry.normalizedPath else { continue }
      found[name] = try layer.reader.readAll(limit: 1 << 20, member: name)
    }
    try layer.stream?.finish()
    return found
  }

  @Test(arguments: [ArchiveFilter.none, .gzip, .zstd])
  func archiveAndLayoutRoundTrip(_ compression: ArchiveFilter) throws {
    let directory = try TemporaryDirectory()
    for (reference, path) in [
      (ImageReference.ociArchive(path: directory.file("image.tar"), tag: "v1"), directory.file("image.tar")),
      (ImageReference.ociLayout(directory: directory.file("layout"), tag: "v1"), directory.file("layout")),
    ] {
      let image = try Self.store(at: reference, compression: compression)
      #expect(image.layer.mediaType == EncodedLayer.mediaType(compression))
      #expect(image.annotations == ["org.example": "yes"])
      let members = try Self.layerMembers(path)
      #expect(members.count == Self.members.count)
      for (name, bytes) in Self.members { #expect(members[name] == bytes, "\(name) in \(path)") }
      // The layer is where the index says, with the digest it was stored under.
      #expect(try OCIArchiveFile.isOCIArchive(directory.file("image.tar")))
    }
    // Files are private; the layout's blob directory too.
    #expect(Files.permissions(directory.file("image.tar")) == 0o600)
  }

  /// Nothing that is not an image is taken for one: a missing path, a plain tar, a directory without a layout.
  @Test func notAnImage() throws {
    let directory = try TemporaryDirectory()
    #expect(try ImageLayer.open(directory.file("missing.tar"), registry: RegistryOptions()) == nil)
    try TestArchive.write([.file("config.dump", Array("{}".utf8))], to: directory.file("plain.tar"))
    #expect(try ImageLayer.open(directory.file("plain.tar"), registry: RegistryOptions()) == nil)
    #expect(try !OCIArchiveFile.isOCIArchive(directory.file("plain.tar")))
    #expect(try ImageLayer.open(directory.path, registry: RegistryOptions()) == nil)
  }

  /// A layer blob changed after storing is refused when its size no longer matches its descriptor.
  @Test func aTruncatedLayoutBlobIsRefused() throws {
    let directory = try TemporaryDirectory()
    let layout = directory.file("layout")
    let image = try Self.store(at: .ociLayout(directory: layout, tag: nil), compression: .gzip)
    let blob = layout + "/blobs/sha256/" + image.layer.digest.hex
    #expect(truncate(blob, off_t(image.layer.size - 1)) == 0)
    #expect(throws: OCIError.self) { try ImageLayer.open(layout, registry: RegistryOptions()) }
  }
}
