import Archive
import Foundation
import Glibc
import SystemSupport

/// Stores a one-layer image where an ``ImageReference`` says: an OCI archive, an OCI layout directory, a
/// registry, or Podman's local store. Each destination is written so that a failure leaves no tag and no
/// temporary file: archives under a temporary name renamed at the end, layout blobs under their digests before
/// `index.json` names them, registry blobs before the manifest, the index last under the tag.
public enum ImageStore {
  /// Stores the image `make` builds at `destination`: `make` writes the layer into the private file it is given
  /// (beside an OCI archive, in a layout's blob directory, or in `$TMPDIR` for a registry and Podman's store)
  /// and returns the image; the layer is then moved, copied or uploaded, and the image tagged last.
  public static func store(
    to destination: ImageReference, registry: RegistryOptions, progress: ProgressSink,
    make: (FileDescriptor) throws -> SingleLayerImage
  ) throws -> SingleLayerImage {
    switch destination {
    case .ociArchive(let path, let tag):
      return try writeArchive(to: path, tag: tag, make: make)
    case .ociLayout(let directory, let tag):
      let existed = Path.exists(directory)
      let writer = try OCILayoutWriter(directory: directory)
      var tagged = false
      // A layout this build created is removed again when the build fails before tagging.
      defer { if !tagged && !existed { removeLayout(directory) } }
      let blob = try writer.makeTemporaryBlob()
      let image = try make(blob.descriptor)
      try blob.commit(as: writer.layout.blobPath(image.layer.digest))
      for (descriptor, bytes) in image.smallBlobs { try writer.write(bytes, mediaType: descriptor.mediaType) }
      try writer.tag(image.indexDescriptor, as: tag)
      tagged = true
      return image
    case .registry(let reference):
      let image = try make(temporaryFile(in: ProcessEnvironment.temporaryDirectory, for: "layer"))
      try push(image, to: reference, options: registry, progress: progress)
      return image
    case .localStorage(let name):
      let searchPath = SearchPath.fromEnvironment(default: "/usr/local/bin:/usr/bin:/bin")
      guard let podman = searchPath.firstExecutable(named: "podman") else {
        throw OCIError.podmanMissing(image: name)
      }
      let directory = try ScratchDirectory(stem: "checkpointctl-image")
      defer { directory.remove() }
      let archive = Path.join(directory.path, "image.oci.tar")
      let image = try writeArchive(to: archive, tag: name, make: make)
      try runPodmanLoad(podman, archive: archive, image: name)
      return image
    }
  }

  /// Pushes a built image: the layer and the configuration (each skipped when the registry has it), the
  /// manifest, then the index under the tag.
  public static func push(
    _ image: SingleLayerImage, to reference: RegistryReference, options: RegistryOptions, progress: ProgressSink = .none
  ) throws {
    let client = try RegistryClient(reference: reference, options: options)
    let size = image.layer.size
    let pushing = progress.start("Pushing", total: size)
    try client.uploadBlob(image.layer, body: .file(fd: image.layerFile.rawValue, size: size)) {
      pushing.advance(by: $0)
    }
    pushing.finish()
    try client.uploadBlob(image.configDescriptor, body: .bytes(image.config))
    try client.putManifest(
      image.manifest, mediaType: MediaType.imageManifest, reference: image.manifestDescriptor.digest.description)
    try client.putManifest(image.index, mediaType: MediaType.imageIndex, reference: reference.reference)
  }

  /// Writes the image `make` builds as an OCI archive at `path` (temporary name, renamed when complete; mode
  /// 0600). The layer comes first and is written by `make` straight into the archive, after one block left for
  /// its header, which is filled in once the layer's digest and size are known; `oci-layout`, `index.json` and
  /// the small blobs follow. The layer is written once, never copied.
  static func writeArchive(to path: String, tag: String?, make: (FileDescriptor) throws -> SingleLayerImage) throws
    -> SingleLayerImage
  {
    let file = try AtomicFile(destination: path)
    let fd = file.descriptor.rawValue
    let block = Int64(512)
    guard lseek(fd, off_t(block), SEEK_SET) == block else { throw SystemError("cannot write", path: path) }
    let image = try make(file.descriptor)
    let time = image.createdSeconds
    let header = try ArchiveWriter.headerBlock(
      for: ArchiveEntry(
        path: OCILayout.blobName(image.layer.digest), kind: .regular, size: image.layer.size, permissions: 0o600,
        modificationTime: time),
      displayPath: path)
    let end = block + image.layer.size
    let padding = [UInt8](repeating: 0, count: Int((block - end % block) % block))
    try file.descriptor.write(header, at: 0)
    try file.descriptor.write(padding, at: end)
    guard lseek(fd, off_t(end + Int64(padding.count)), SEEK_SET) == end + Int64(padding.count) else {
      throw SystemError("cannot write", path: path)
    }
    let writer = try ArchiveWriter(descriptor: file.descriptor, compression: .none, displayPath: path)
    let index = OCILayout.retagged(nil, with: image.indexDescriptor, tag: tag)
    try writer.addFile(named: OCILayout.layoutFile, bytes: OCILayout.layoutFileContent, modificationTime: time)
    try writer.addFile(named: OCILayout.indexFile, bytes: index.json.canonicalBytes, modificationTime: time)
    for (descriptor, bytes) in image.smallBlobs.reversed() {
      try writer.addFile(named: OCILayout.blobName(descriptor.digest), bytes: bytes, modificationTime: time)
    }
    try writer.finish()
    try file.commit()
    return image
  }

  /// A private temporary file in `directory`, unlinked at once (nothing is left behind, whatever happens).
  static func temporaryFile(in directory: String, for name: String) throws -> FileDescriptor {
    try UnlinkedFile.make(
      in: directory, stem: AtomicFile.temporaryPrefix + Path.base(of: name) + ".layer", displayPath: name)
  }

  /// Removes an OCI layout directory this program created (its blobs, then the directories).
  static func removeLayout(_ directory: String) {
    Path.removeFlatDirectory(Path.join(directory, OCILayout.blobDirectory))
    rmdir(Path.join(directory, "blobs"))
    Path.removeFlatDirectory(directory)
  }

  /// `podman load -i ARCHIVE`: the one outside tool, because Podman's store is Podman's own format.
  static func runPodmanLoad(_ podman: String, archive: String, image: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: podman)
    process.arguments = ["load", "-q", "-i", archive]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { throw OCIError.podmanMissing(image: image) }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let text = String(decoding: data.prefix(4096), as: UTF8.self)
        .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
      throw OCIError.podmanFailed(image: image, status: process.terminationStatus, output: text)
    }
  }
}
