import SystemSupport

/// Every descriptor of a local image checked against the blob it names (`verify`): from `index.json` through
/// each index and manifest (their digests and sizes) to each manifest's configuration (digest and size) and
/// layers (size; a layer's digest is checked as its bytes are read, see ``ImageLayer/open(_:registry:hashing:)``).
/// All are checked, whatever fails: each failure is returned, none is thrown.
public enum ImageDocumentCheck {
  /// The failures of the image `path` names: an OCI archive file, `oci-archive:` or `oci:` (none for others:
  /// a registry checks each blob as it sends it). A failure to read `index.json` is the only one.
  public static func failures(of path: String) -> [Error] {
    do {
      let reference =
        try Path.status(path) == nil ? try ImageReference(transport: path) : try ImageReference.held(by: path)
      switch reference {
      case .ociArchive(let file, _)?:
        let archive = try OCIArchiveFile(path: file)
        return walk(
          try archive.index().manifests, depth: 0, source: file, fetch: archive.blob,
          checkSize: { _ = try archive.location(of: $0) })
      case .ociLayout(let directory, _)?:
        let layout = OCILayout(directory: directory)
        return walk(
          try layout.index().manifests, depth: 0, source: directory, fetch: layout.blob,
          checkSize: { descriptor in
            guard let size = Path.regularFileSize(layout.blobPath(descriptor.digest)) else {
              throw OCIError.missingBlob(source: directory, digest: descriptor.digest)
            }
            guard size == descriptor.size else {
              throw OCIError.sizeMismatch(
                source: directory, digest: descriptor.digest, expected: descriptor.size, actual: size)
            }
          })
      default:
        return []
      }
    } catch {
      return [error]
    }
  }

  /// Checks `descriptors` (an index's manifests) and what they lead to, at most two indexes deep.
  private static func walk(
    _ descriptors: [Descriptor], depth: Int, source: String, fetch: (Descriptor) throws -> [UInt8],
    checkSize: (Descriptor) throws -> Void
  ) -> [Error] {
    var failures: [Error] = []
    for descriptor in descriptors {
      do {
        let type = descriptor.mediaType
        guard MediaType.isIndex(type) || MediaType.isManifest(type) || type.isEmpty else {
          // A blob listed directly (containerd's checkpoint index): its size, and its digest when it is small.
          if descriptor.size <= Int64(OCILimits.document) {
            _ = try fetch(descriptor)
          } else {
            try checkSize(descriptor)
          }
          continue
        }
        let bytes = try fetch(descriptor)
        if MediaType.isIndex(descriptor.mediaType) {
          guard depth < 2 else {
            throw OCIError.invalidDocument(source: source, reason: "an index inside an index inside an index")
          }
          let index = try ImageIndex(json: bytes, source: source)
          failures += walk(index.manifests, depth: depth + 1, source: source, fetch: fetch, checkSize: checkSize)
          continue
        }
        let manifest = try ImageManifest(json: bytes, source: source)
        do { _ = try fetch(manifest.config) } catch { failures.append(error) }
        for layer in manifest.layers {
          do { try checkSize(layer) } catch { failures.append(error) }
        }
      } catch {
        failures.append(error)
      }
    }
    return failures
  }
}
