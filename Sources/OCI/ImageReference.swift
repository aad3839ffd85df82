/// Where an image is read from or written to, in skopeo's transport syntax.
public enum ImageReference: Equatable, Sendable, CustomStringConvertible {
  /// `oci-archive:PATH[:TAG]`: an OCI image layout in a tar file.
  case ociArchive(path: String, tag: String?)
  /// `oci:DIR[:TAG]`: an OCI image layout directory.
  case ociLayout(directory: String, tag: String?)
  /// `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`: a registry speaking the OCI distribution API.
  case registry(RegistryReference)
  /// A bare name (`localhost/ckpt:latest`): Podman's local image store.
  case localStorage(name: String)

  /// The transports a reader accepts, as users type them.
  public static let transportPrefixes = ["oci-archive:", "oci:", "docker://"]

  /// Parses a reference with a transport prefix; `nil` when `text` has none (a plain path or a bare name).
  public init?(transport text: String) throws(OCIError) {
    if text.hasPrefix("oci-archive:") {
      let (path, tag) = try Self.splitPathAndTag(String(text.dropFirst("oci-archive:".count)), text)
      self = .ociArchive(path: path, tag: tag)
    } else if text.hasPrefix("oci:") {
      let (path, tag) = try Self.splitPathAndTag(String(text.dropFirst("oci:".count)), text)
      self = .ociLayout(directory: path, tag: tag)
    } else if text.hasPrefix("docker://") {
      self = .registry(try RegistryReference(parsing: String(text.dropFirst("docker://".count)), original: text))
    } else if text.hasPrefix("docker:") || text.hasPrefix("containers-storage:") || text.hasPrefix("dir:")
      || text.hasPrefix("docker-archive:") || text.hasPrefix("docker-daemon:")
    {
      throw .invalidReference(text, reason: "transport not supported; use oci-archive:, oci:, docker:// or a bare name")
    } else {
      return nil
    }
  }

  /// Parses a destination: a transport reference, else a bare name for Podman's store.
  public init(parsing text: String) throws(OCIError) {
    if let reference = try ImageReference(transport: text) {
      self = reference
      return
    }
    // A bare name must be a valid registry-style name (it is what `podman images` shows).
    let parsed = try RegistryReference(parsing: text, original: text)
    self = .localStorage(name: parsed.description)
  }

  /// The reference as users type it.
  public var description: String {
    switch self {
    case .ociArchive(let path, let tag): return "oci-archive:" + path + (tag.map { ":" + $0 } ?? "")
    case .ociLayout(let directory, let tag): return "oci:" + directory + (tag.map { ":" + $0 } ?? "")
    case .registry(let reference): return "docker://" + reference.description
    case .localStorage(let name): return name
    }
  }

  /// skopeo's rule: the path ends at the first `:`; what follows is the tag.
  private static func splitPathAndTag(_ rest: String, _ original: String) throws(OCIError) -> (String, String?) {
    let path: String
    var tag: String?
    if let colon = rest.firstIndex(of: ":") {
      path = String(rest[..<colon])
      tag = String(rest[rest.index(after: colon)...])
    } else {
      path = rest
    }
    guard !path.isEmpty else { throw .invalidReference(original, reason: "the path is empty") }
    if let value = tag {
      guard RegistryReference.isValidTag(value) else {
        throw .invalidReference(original, reason: "\(quotedForError(value)) is not a valid tag")
      }
      tag = value
    }
    return (path, tag)
  }
}

/// A repository in a registry, with a tag or a digest.
public struct RegistryReference: Equatable, Sendable, CustomStringConvertible {
  /// `host[:port]` (`docker.io` for names without a registry host).
  public var host: String
  /// The repository path (`team/checkpoints`; `library/x` on Docker Hub).
  public var repository: String
  /// The tag, when given (`latest` is used when neither tag nor digest is).
  public var tag: String?
  /// The digest, when given.
  public var digest: Digest?

  /// The tag or digest requests use: the digest, else the tag, else `latest`.
  public var reference: String { digest?.description ?? tag ?? "latest" }

  /// `host/repository:tag` or `host/repository@digest`.
  public var description: String {
    host + "/" + repository + (digest.map { "@" + $0.description } ?? ":" + (tag ?? "latest"))
  }

  /// Parses `HOST[:PORT]/REPO[:TAG|@DIGEST]` with Docker's rules: the first component is a host when it has a
  /// `.` or a `:` or is `localhost`; otherwise the host is `docker.io`.
  public init(parsing text: String, original: String) throws(OCIError) {
    var rest = Substring(text)
    var digest: Digest?
    if let at = rest.firstIndex(of: "@") {
      let digestText = String(rest[rest.index(after: at)...])
      guard let parsed = Digest(digestText) else {
        throw .invalidReference(original, reason: "\(quotedForError(digestText)) is not a sha256 digest")
      }
      digest = parsed
      rest = rest[..<at]
    }
    var tag: String?
    if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
      let value = String(rest[rest.index(after: colon)...])
      guard Self.isValidTag(value) else {
        throw .invalidReference(original, reason: "\(quotedForError(value)) is not a valid tag")
      }
      tag = value
      rest = rest[..<colon]
    }
    var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard let first = components.first, !first.isEmpty else {
      throw .invalidReference(original, reason: "the name is empty")
    }
    var host = "docker.io"
    if components.count > 1, first.contains(".") || first.contains(":") || first == "localhost" {
      guard Self.isValidHost(first) else {
        throw .invalidReference(original, reason: "\(quotedForError(first)) is not a valid registry host")
      }
      host = first
      components.removeFirst()
    } else if components.count == 1 {
      components.insert("library", at: 0)
    }
    for component in components where !Self.isValidPathComponent(component) {
      throw .invalidReference(
        original,
        reason: "\(quotedForError(component)) is not a valid repository name component (lower case, digits, . _ -)")
    }
    let repository = components.joined(separator: "/")
    guard repository.utf8.count <= 255 else { throw .invalidReference(original, reason: "the name is too long") }
    self.host = host
    self.repository = repository
    self.tag = tag
    self.digest = digest
  }

  /// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
  public static func isValidTag(_ tag: String) -> Bool {
    let bytes = Array(tag.utf8)
    guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
    return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
  }

  /// A path component: `[a-z0-9]+` runs separated by `.`, `_`, `__` or `-`s.
  static func isValidPathComponent(_ component: String) -> Bool {
    let bytes = Array(component.utf8)
    guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
    var index = 0
    while index < bytes.count {
      if isLowerAlnum(bytes[index]) {
        index += 1
        continue
      }
      var end = index
      while end < bytes.count, !isLowerAlnum(bytes[end]) { end += 1 }
      let separator = String(decoding: bytes[index..<end], as: UTF8.self)
      guard separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" }) else {
        return false
      }
      index = end
    }
    return true
  }

  /// A host: DNS labels (letters, digits, `-`, `.`), optionally `:port` (1–65535).
  static func isValidHost(_ host: String) -> Bool {
    var name = Substring(host)
    if let colon = host.lastIndex(of: ":") {
      let port = host[host.index(after: colon)...]
      guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), let number = Int(port), number > 0,
        number <= 65535
      else { return false }
      name = host[..<colon]
    }
    return !name.isEmpty
      && name.utf8.allSatisfy { isLowerAlnum($0) || ($0 >= 0x41 && $0 <= 0x5a) || $0 == 0x2d || $0 == 0x2e }
  }

  private static func isLowerAlnum(_ byte: UInt8) -> Bool {
    (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
  }
  private static func isWord(_ byte: UInt8) -> Bool {
    isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5a) || byte == UInt8(ascii: "_")
  }
}
