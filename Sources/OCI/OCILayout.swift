import Glibc
import SystemSupport

/// An OCI image layout directory (`oci:DIR`): `oci-layout`, `index.json` and `blobs/sha256/<hex>`.
public struct OCILayout: Sendable {
  /// The layout's directory.
  public let directory: String

  /// `oci-layout`'s content.
  public static let layoutFileContent = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
  /// The member names inside a layout.
  public static let layoutFile = "oci-layout"
  /// The top-level index.
  public static let indexFile = "index.json"
  /// Where blobs live.
  public static let blobDirectory = "blobs/sha256"

  /// A layout at `directory` (nothing is read or created yet).
  public init(directory: String) {
    self.directory = directory
  }

  /// The path of a blob, relative to a layout's root.
  public static func blobName(_ digest: Digest) -> String { blobDirectory + "/" + digest.hex }

  /// The path of a blob.
  public func blobPath(_ digest: Digest) -> String { directory + "/" + Self.blobName(digest) }

  /// True when `directory` looks like an OCI layout (it has `oci-layout` and `index.json`).
  public static func isLayout(_ directory: String) -> Bool {
    Path.regularFileSize(directory + "/" + layoutFile) != nil
      && Path.regularFileSize(directory + "/" + indexFile) != nil
  }

  /// Reads `index.json`.
  public func index() throws -> ImageIndex {
    let path = directory + "/" + Self.indexFile
    return try ImageIndex(json: OCILimits.readDocument(path), source: path)
  }

  /// Reads a small blob whole, checking its size and digest.
  public func blob(_ descriptor: Descriptor) throws -> [UInt8] {
    let path = blobPath(descriptor.digest)
    guard Path.exists(path) else { throw OCIError.missingBlob(source: directory, digest: descriptor.digest) }
    guard descriptor.size <= Int64(OCILimits.document) else {
      throw OCIError.invalidDocument(source: path, reason: "a \(descriptor.size)-byte document is too large")
    }
    let bytes = try OCILimits.readDocument(path)
    try Self.verify(bytes, descriptor, source: directory)
    return bytes
  }

  /// Checks a blob's size and digest against its descriptor.
  public static func verify(_ bytes: [UInt8], _ descriptor: Descriptor, source: String) throws(OCIError) {
    guard Int64(bytes.count) == descriptor.size else {
      throw .sizeMismatch(
        source: source, digest: descriptor.digest, expected: descriptor.size, actual: Int64(bytes.count))
    }
    let actual = Digest(of: bytes)
    guard actual == descriptor.digest else {
      throw .digestMismatch(source: source, expected: descriptor.digest, actual: actual)
    }
  }

  /// The descriptor `index.json` lists for `tag` (`org.opencontainers.image.ref.name`); without a tag, the only
  /// image listed.
  public static func tagged(_ index: ImageIndex, tag: String?, source: String) throws(OCIError) -> Descriptor {
    if let tag {
      guard let match = index.manifests.last(where: { $0.annotations[OCIAnnotation.refName] == tag }) else {
        throw .tagNotFound(source: source, tag: tag)
      }
      return match
    }
    guard index.manifests.count == 1, let only = index.manifests.first else {
      throw .tagNotFound(source: source, tag: nil)
    }
    return only
  }

  /// `index.json` with `descriptor` tagged `tag` (replacing an image of the same tag; untagged when `nil`).
  public static func retagged(_ index: ImageIndex?, with descriptor: Descriptor, tag: String?) -> ImageIndex {
    var manifests = index?.manifests ?? []
    var entry = descriptor
    if let tag {
      manifests.removeAll { $0.annotations[OCIAnnotation.refName] == tag }
      entry.annotations[OCIAnnotation.refName] = tag
    }
    manifests.removeAll { $0 == entry }
    manifests.append(entry)
    return ImageIndex(manifests: manifests, annotations: index?.annotations ?? [:])
  }
}

/// Writes blobs into an OCI layout directory, then tags the image last: a failure before ``tag(_:as:)`` leaves
/// at most unreferenced blobs (each complete, under its digest) and no tag.
public final class OCILayoutWriter {
  /// The layout being written.
  public let layout: OCILayout

  /// Opens (creating, 0700) the layout directory; an existing non-empty directory must already be a layout.
  public init(directory: String) throws {
    layout = OCILayout(directory: directory)
    if let info = try Path.status(directory), Path.isDirectory(info) {
      if try !Path.entries(of: directory).isEmpty && !Path.exists(directory + "/" + OCILayout.layoutFile) {
        throw OCIError.invalidDocument(
          source: directory, reason: "the directory exists and is not an OCI image layout")
      }
    } else if Path.exists(directory) {
      throw SystemError("cannot open", path: directory, code: ENOTDIR)
    }
    try Path.makeDirectory(directory)
    try Path.makeDirectory(directory + "/blobs")
    try Path.makeDirectory(directory + "/" + OCILayout.blobDirectory)
  }

  /// Stores a small blob (a manifest, an index, a configuration) under its digest.
  @discardableResult
  public func write(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
    let descriptor = Descriptor(mediaType: mediaType, bytes: bytes)
    let path = layout.blobPath(descriptor.digest)
    if Path.regularFileSize(path) != Int64(bytes.count) {
      try AtomicFile.write(bytes, to: path)
    }
    return descriptor
  }

  /// A private temporary file in the blob directory for a large blob being produced; commit it with
  /// ``AtomicFile/commit(as:)`` to ``OCILayout/blobPath(_:)`` when its digest is known (it is removed otherwise).
  public func makeTemporaryBlob() throws -> AtomicFile {
    try AtomicFile(
      destination: layout.directory + "/" + OCILayout.blobDirectory + "/blob", displayPath: layout.directory)
  }

  /// Writes `oci-layout` and `index.json` with `descriptor` tagged `tag`: the last step.
  public func tag(_ descriptor: Descriptor, as tag: String?) throws {
    let indexPath = layout.directory + "/" + OCILayout.indexFile
    let existing = Path.exists(indexPath) ? try layout.index() : nil
    let index = OCILayout.retagged(existing, with: descriptor, tag: tag)
    try AtomicFile.write(OCILayout.layoutFileContent, to: layout.directory + "/" + OCILayout.layoutFile)
    try AtomicFile.write(index.json.canonicalBytes, to: indexPath)
  }
}
