import Archive
import CRIU
import Glibc
import OCI
import SystemSupport

/// What an image of a kubelet checkpoint store says about itself, on its manifest and its index (with
/// `org.opencontainers.image.title` = ``title`` and `org.opencontainers.image.created`, the newest member's time).
/// It carries none of the container checkpoint keys (`org.criu.checkpoint.*`, CRI-O's, Podman's): no engine
/// mistakes it for a container to restore.
public enum StoreImageAnnotation {
  /// How many pods `checkpointed.pods` lists (`0` for a directory of kubelet-API container checkpoints; a pod
  /// checkpoint store's: how many pod checkpoint directories).
  public static let pods = "io.checkpointctl.kubelet.store.pods"
  /// How many archives the layer holds (`<SandboxID>.tar`, or `checkpoint-*.tar`; a pod checkpoint store's
  /// pod checkpoints, directories and `.tar` files).
  public static let archives = "io.checkpointctl.kubelet.store.archives"
  /// The title of every store image.
  public static let title = "kubelet checkpoint store"
}

extension KubeletStore {
  /// Writes the store as an OCI image: one layer holding exactly what ``extract(to:compression:progress:)``
  /// writes to a file (`checkpointed.pods` and every archive at the root, each with its file's mode, time and
  /// owner), compressed with `compression` (zstd, gzip or none); a configuration for this host's platform whose
  /// `diff_ids` is the uncompressed tar's digest; a manifest and an index, annotated (``StoreImageAnnotation``).
  /// The same store gives the same digest.
  ///
  /// The store is read under a shared lock and checked before anything is written; the image is stored as
  /// `build` stores one (an OCI archive renamed into place when complete, layout blobs before `index.json`,
  /// registry blobs before the manifest and the index last under the tag), so a failure leaves no tag and no
  /// temporary file. A bare name is refused: Podman's store is no place for a kubelet store.
  @discardableResult
  public func extract(
    toImage destination: ImageReference, compression: ArchiveFilter, pods: [String] = [],
    registry: RegistryOptions = RegistryOptions(), progress: ProgressSink = .none
  ) throws -> ExtractSummary {
    if case .localStorage(let name) = destination {
      throw KubeletStoreError.bareImageName(name)
    }
    guard OCIImageBuilder.compressions.contains(compression) else {
      throw OCIImageError.badCompression(compression.name)
    }
    var summary = ExtractSummary(podArchives: [], bytes: 0)
    let image = try ImageStore.store(to: destination, registry: registry, progress: progress) { layerFile in
      let lock = try lockShared()
      defer { withExtendedLifetime(lock) {} }
      let plan = try extractPlan(pods: pods)
      let encoder = try TarStreamEncoder(
        compression: compression, fd: layerFile.rawValue, displayPath: layerFile.displayPath)
      let extracting = progress.start("Extracting", total: plan.total)
      summary = try write(plan, to: encoder, progress: extracting)
      let layer = EncodedLayer(try encoder.finish(), compression: compression)
      extracting.finish()
      // A file time beyond the year 9999 (a hostile store) leaves the image without a creation time.
      let created = OCIImageBuilder.rfc3339(plan.newest)
      var annotations = [
        OCIAnnotation.title: StoreImageAnnotation.title,
        StoreImageAnnotation.pods: String(plan.pods), StoreImageAnnotation.archives: String(plan.names.count),
      ]
      if let created { annotations[OCIAnnotation.created] = created }
      return SingleLayerImage(
        layer: layer, layerFile: layerFile, annotations: annotations,
        platform: Platform(architecture: Platform.host.architecture, os: "linux"), created: created,
        createdSeconds: created == nil ? 0 : plan.newest)
    }
    summary.image = image.indexDescriptor
    return summary
  }

  /// Adds the pods of `input` to this store: an archive written by `extract`, or an image of one (a
  /// `docker://`, `oci-archive:` or `oci:` reference, or an OCI archive file or layout directory recognised by
  /// its content). An image's only layer is read once, in order (a registry's is streamed, never saved whole),
  /// by the same insert as an archive (lock, staging, nothing overwritten, atomic commit), and its size and
  /// digest are checked before anything is committed: a layer that is not what its digest says changes nothing.
  @discardableResult
  public func insert(from input: String, registry: RegistryOptions = RegistryOptions()) throws -> InsertSummary {
    guard let reference = try Self.imageSource(input) else { return try insert(archive: input) }
    let layer = try ImageLayerStream.open(reference, display: input, registry: registry)
    do {
      let reader = try ArchiveReader(bytes: layer, size: layer.descriptor.size, displayPath: input)
      return try insert(reader) { try layer.finish() }
    } catch {
      // A layer that is not what its digest says explains any failure to read it (bytes that are no archive,
      // metadata that does not parse, a member that is refused): that is the error to report.
      try layer.finish()
      throw error as? KubeletStoreError == .notKubeletArchive(input) ? KubeletStoreError.notKubeletImage(input) : error
    }
  }

  /// The image `extract -o` names, or `nil` for a file (or `-`): a transport reference. A bare image name
  /// (Podman's store) and an unsupported transport are errors naming the transports a store moves through.
  public static func imageDestination(_ output: String) throws -> ImageReference? {
    output == "-" ? nil : try imageReference(output)
  }

  /// The image `insert -i` names, or `nil` for an archive: an existing path is an image when its content says so
  /// (an OCI layout directory, an uncompressed OCI archive file; a pipe is never read ahead); anything else may
  /// be a reference.
  static func imageSource(_ input: String) throws -> ImageReference? {
    guard try Path.status(input) != nil else { return try imageReference(input) }
    return try ImageReference.held(by: input)
  }

  /// A transport reference, `nil` for a path; a text that cannot be a path (its directory is missing) but
  /// reads as an image name with a registry host, a port or a tag (`localhost/ckpt:v1`) is a bare image name.
  private static func imageReference(_ text: String) throws -> ImageReference? {
    let transport: ImageReference?
    do {
      transport = try ImageReference(transport: text)
    } catch {
      guard case .invalidReference(_, let reason) = error, reason.hasPrefix("transport not supported") else {
        throw error
      }
      throw KubeletStoreError.unsupportedImage(reference: text, what: "this transport")
    }
    if let transport { return transport }
    let components = text.split(separator: "/", omittingEmptySubsequences: false)
    guard try Path.status(Path.directory(of: text)) == nil, components.count > 1,
      let first = components.first, let last = components.last,
      first == "localhost" || first.contains(":") || last.contains(":"),
      (try? ImageReference(parsing: text)) != nil
    else { return nil }
    throw KubeletStoreError.bareImageName(text)
  }
}
