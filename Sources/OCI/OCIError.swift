/// Errors raised while parsing image references, reading and writing OCI layouts, and talking to registries.
/// Each description names the file or registry and what failed, on one line.
public enum OCIError: Error, Equatable, CustomStringConvertible {
  /// A reference that no transport accepts.
  case invalidReference(String, reason: String)
  /// A manifest, index, configuration or `index.json` that is not what it must be.
  case invalidDocument(source: String, reason: String)
  /// A blob named by a descriptor is absent.
  case missingBlob(source: String, digest: Digest)
  /// Bytes whose SHA-256 is not the digest that names them.
  case digestMismatch(source: String, expected: Digest, actual: Digest)
  /// Bytes whose count is not the size a descriptor says.
  case sizeMismatch(source: String, digest: Digest, expected: Int64, actual: Int64)
  /// No image with this tag (or no single image when no tag was given).
  case tagNotFound(source: String, tag: String?)
  /// A registry request failed: `what` is the request, `reason` what the registry or the network said.
  case registry(registry: String, what: String, reason: String)
  /// An image that does not hold a checkpoint.
  case notACheckpointImage(source: String, reason: String)
  /// A member an OCI archive must have is not there.
  case missingMember(source: String, member: String)
  /// Podman is needed for a bare image name and is not installed.
  case podmanMissing(image: String)
  /// `podman load` failed.
  case podmanFailed(image: String, status: Int32, output: String)

  /// One line naming what failed and where.
  public var description: String {
    switch self {
    case .invalidReference(let text, let reason):
      return "invalid image reference \(quotedForError(text)): \(reason)"
    case .invalidDocument(let source, let reason):
      return "\(source): \(reason)"
    case .missingBlob(let source, let digest):
      return "\(source): blob \(digest) is missing"
    case .digestMismatch(let source, let expected, let actual):
      return "\(source): blob \(expected) has digest \(actual)"
    case .sizeMismatch(let source, let digest, let expected, let actual):
      return "\(source): blob \(digest) has \(actual) bytes, its descriptor says \(expected)"
    case .tagNotFound(let source, let tag):
      if let tag { return "\(source): no image tagged \(quotedForError(tag))" }
      return "\(source): no tag given and the layout does not hold exactly one image"
    case .registry(let registry, let what, let reason):
      return "registry \(registry): \(what): \(reason)"
    case .notACheckpointImage(let source, let reason):
      return "\(source) is not a checkpoint image: \(reason)"
    case .missingMember(let source, let member):
      return "\(source): \(member): no such file or directory"
    case .podmanMissing(let image):
      return
        "cannot store \(image) in the local image store: podman is not installed (write the image with oci-archive:PATH, oci:DIR or docker://HOST/REPO instead)"
    case .podmanFailed(let image, let status, let output):
      return "podman load of \(image) failed (exit status \(status)): \(output)"
    }
  }
}
