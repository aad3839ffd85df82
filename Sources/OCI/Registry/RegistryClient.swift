import FoundationEssentials
import Glibc
import NIOHTTP1
import SystemSupport

/// A client of one repository in a registry speaking the OCI distribution API (as distribution v2.8 does):
/// blob uploads (HEAD to skip what is there, POST then PUT with the digest, or PATCH chunks for large blobs),
/// manifest and index PUTs, and reads. Basic and bearer-token authentication, answered when the registry
/// asks (401 with `WWW-Authenticate`).
public final class RegistryClient {
  /// The repository and tag.
  public let reference: RegistryReference
  let options: RegistryOptions
  let transport: HTTPTransport
  private(set) var base: String
  private var authorization: String?
  private var triedCredentials = false
  private var pinged = false
  /// Blobs larger than this are sent in PATCH chunks of this size: memory stays bounded (one chunk in memory,
  /// and the client's copy of it on the way out).
  static let chunkSize = 4 << 20

  /// A client for `reference`; nothing is sent yet. The TLS configuration (CAs, client certificates) is read now.
  public init(reference: RegistryReference, options: RegistryOptions) throws {
    self.reference = reference
    self.options = options
    let host = reference.host == "docker.io" ? "registry-1.docker.io" : reference.host
    base = "https://" + host
    transport = HTTPTransport(registry: reference.host, tls: try options.tlsConfiguration(for: reference.host))
  }

  /// Where messages say things happened: the registry host.
  public var registry: String { reference.host }

  private var repositoryPath: String { "/v2/" + reference.repository }

  // MARK: Requests

  /// Sends a request, answering one authentication challenge.
  func send(
    _ method: HTTPMethod, _ target: String, headers: [String: String] = [:], body: [UInt8]? = nil,
    limit: Int = OCILimits.document
  ) throws -> HTTPResponse {
    try ping()
    let what = method.rawValue + " " + Self.pathOnly(target)
    var response = try transport.send(
      method, url(target), headers: requestHeaders(headers), body: body, limit: limit, what: what)
    if response.status == 401 {
      try authenticate(response, what: what)
      response = try transport.send(
        method, url(target), headers: requestHeaders(headers), body: body, limit: limit, what: what)
      if response.status == 401 || response.status == 403 {
        throw OCIError.registry(
          registry: registry, what: what,
          reason: Self.reason(status: response.status, body: response.body) + " (check the credentials)")
      }
    }
    return response
  }

  /// `GET /v2/` once, answering its challenge before anything else is sent. With `--tls-verify=false`, HTTPS
  /// without certificate checks first, then plain HTTP when that fails (as skopeo does for an insecure registry).
  private func ping() throws {
    guard !pinged else { return }
    pinged = true
    let what = "GET /v2/"
    var response: HTTPResponse
    do {
      response = try transport.send(.GET, url("/v2/"), headers: requestHeaders([:]), what: what)
    } catch {
      guard !options.tlsVerify, base.hasPrefix("https://") else { throw error }
      base = "http://" + base.dropFirst("https://".count)
      response = try transport.send(.GET, url("/v2/"), headers: requestHeaders([:]), what: what)
    }
    switch response.status {
    case 200: return
    case 401:
      try authenticate(response, what: what)
      let again = try transport.send(.GET, url("/v2/"), headers: requestHeaders([:]), what: what)
      guard again.status == 200 else {
        throw OCIError.registry(
          registry: registry, what: what,
          reason: Self.reason(status: again.status, body: again.body) + " (the credentials were refused)")
      }
    default:
      throw OCIError.registry(
        registry: registry, what: what, reason: Self.reason(status: response.status, body: response.body))
    }
  }

  /// `target` as a URL: a path on the registry, or an absolute URL it gave (an upload location).
  func url(_ target: String) -> String {
    target.hasPrefix("http://") || target.hasPrefix("https://") ? target : base + target
  }

  /// `headers` and the authorization, once there is one.
  func requestHeaders(_ headers: [String: String]) -> HTTPHeaders {
    var result = HTTPHeaders(headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    if let authorization { result.replaceOrAdd(name: "Authorization", value: authorization) }
    return result
  }

  /// Answers a 401: Basic with the credentials, or a Bearer token fetched from the realm.
  private func authenticate(_ response: HTTPResponse, what: String) throws {
    guard !triedCredentials else {
      throw OCIError.registry(registry: registry, what: what, reason: "401 Unauthorized (check the credentials)")
    }
    triedCredentials = true
    let credentials = try options.credentials(for: reference.host)
    guard let challenge = response.header("WWW-Authenticate") else {
      throw OCIError.registry(registry: registry, what: what, reason: "401 Unauthorized without a challenge")
    }
    let basic = credentials.map { "Basic " + Data(($0.user + ":" + $0.password).utf8).base64EncodedString() }
    let lower = challenge.lowercased()
    if lower.hasPrefix("basic") {
      guard let basic else {
        throw OCIError.registry(
          registry: registry, what: what, reason: "authentication required (give --creds or --authfile)")
      }
      authorization = basic
      return
    }
    guard lower.hasPrefix("bearer") else {
      throw OCIError.registry(
        registry: registry, what: what, reason: "unsupported authentication \(quotedForError(challenge))")
    }
    let parameters = Self.challengeParameters(String(challenge.dropFirst("bearer".count)))
    guard let realm = parameters["realm"], realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
      throw OCIError.registry(registry: registry, what: what, reason: "bearer challenge without a realm")
    }
    var query: [(String, String)] = []
    if let service = parameters["service"] { query.append(("service", service)) }
    query.append(("scope", parameters["scope"] ?? "repository:\(reference.repository):pull,push"))
    let tokenURL =
      realm + (realm.contains("?") ? "&" : "?")
      + query.map { Self.percentEncoded($0.0) + "=" + Self.percentEncoded($0.1) }.joined(separator: "&")
    let realmHost = Self.host(of: realm) ?? realm
    var headers = HTTPHeaders()
    if let basic { headers.add(name: "Authorization", value: basic) }
    let answer = try transport.send(.GET, tokenURL, headers: headers, what: "GET token from \(realmHost)")
    guard answer.status == 200 else {
      throw OCIError.registry(
        registry: registry, what: "GET token", reason: Self.reason(status: answer.status, body: answer.body))
    }
    struct Token: Decodable {
      var token: String?
      var access_token: String?
    }
    let token = try decodeDocument(Token.self, answer.body, source: "registry \(registry) token")
    guard let value = token.token ?? token.access_token, !value.isEmpty else {
      throw OCIError.registry(registry: registry, what: "GET token", reason: "the answer holds no token")
    }
    authorization = "Bearer " + value
  }

  /// A query value with everything but RFC 3986's unreserved characters percent-encoded.
  static func percentEncoded(_ text: String) -> String {
    var result = ""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        result.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        result.unicodeScalars.append("%")
        result.unicodeScalars.append(hex[Int(byte >> 4)])
        result.unicodeScalars.append(hex[Int(byte & 15)])
      }
    }
    return result
  }

  /// The host of an absolute URL (`https://auth.example/token` → `auth.example`).
  static func host(of url: String) -> String? {
    guard let scheme = url.firstRange(of: "://") else { return nil }
    let rest = url[scheme.upperBound...]
    let host = rest.prefix { $0 != "/" && $0 != "?" }
    return host.isEmpty ? nil : String(host)
  }

  /// `realm="…",service="…",scope="…"`.
  static func challengeParameters(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    var rest = Substring(text).drop(while: { $0 == " " })
    while let equals = rest.firstIndex(of: "=") {
      let key = String(
        rest[..<equals].drop { $0 == " " || $0 == "," }.reversed().drop { $0 == " " || $0 == "," }.reversed()
      ).lowercased()
      rest = rest[rest.index(after: equals)...]
      var value = ""
      if rest.first == "\"" {
        rest = rest.dropFirst()
        let end = rest.firstIndex(of: "\"") ?? rest.endIndex
        value = String(rest[..<end])
        rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[end...]
      } else {
        let end = rest.firstIndex(of: ",") ?? rest.endIndex
        value = String(rest[..<end])
        rest = rest[end...]
      }
      result[key] = value
      rest = rest.drop(while: { $0 == "," || $0 == " " })
    }
    return result
  }

  /// A failed status in a few words: the registry's error codes and messages when it sent them.
  static func reason(status: Int, body: [UInt8]) -> String {
    struct Errors: Decodable {
      var errors: [Item]?
      struct Item: Decodable {
        var code: String?
        var message: String?
      }
    }
    var text = "HTTP \(status)"
    if let parsed = try? JSONDecoder().decode(Errors.self, from: Data(body)), let items = parsed.errors, !items.isEmpty
    {
      text +=
        ": " + items.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: " ") }.joined(separator: "; ")
    }
    return singleLine(text)
  }

  /// The path of a target (an absolute URL's path, without the query), for messages.
  static func pathOnly(_ target: String) -> String {
    var rest = Substring(target)
    if let scheme = rest.firstRange(of: "://") {
      rest = rest[scheme.upperBound...]
      rest = rest.drop { $0 != "/" && $0 != "?" }
    }
    return String(rest.prefix { $0 != "?" })
  }

  // MARK: Pushing

  /// What a blob upload sends.
  public enum BlobBody {
    /// Bytes in memory.
    case bytes([UInt8])
    /// `size` bytes of an open file, from offset 0, read in chunks at their offsets.
    case file(FileDescriptor, size: Int64)
  }

  /// True when the repository has the blob (HEAD → 200).
  public func hasBlob(_ digest: Digest) throws -> Bool {
    let response = try send(.HEAD, repositoryPath + "/blobs/" + digest.description)
    switch response.status {
    case 200: return true
    case 404: return false
    default:
      throw OCIError.registry(
        registry: registry, what: "HEAD \(repositoryPath)/blobs/\(digest)",
        reason: Self.reason(status: response.status, body: response.body))
    }
  }

  /// Uploads a blob unless the registry has it: POST, then one PUT with the digest (small blobs), or PATCH
  /// chunks and a closing PUT with the digest (large ones). `progress` is told the bytes of each request sent.
  public func uploadBlob(_ descriptor: Descriptor, body: BlobBody, progress: (Int) -> Void = { _ in })
    throws
  {
    if try hasBlob(descriptor.digest) { return }
    let start = try send(.POST, repositoryPath + "/blobs/uploads/")
    guard start.status == 202, var location = start.header("Location") else {
      throw OCIError.registry(
        registry: registry, what: "POST \(repositoryPath)/blobs/uploads/",
        reason: Self.reason(status: start.status, body: start.body))
    }
    location = try absolute(location)
    let octets = ["Content-Type": "application/octet-stream"]
    switch body {
    case .bytes(let bytes):
      try finishUpload(location, descriptor, body: bytes, headers: octets)
      progress(bytes.count)
    case .file(let file, let size):
      guard size > Int64(Self.chunkSize) else {
        try finishUpload(
          location, descriptor, body: try Self.readChunk(file, offset: 0, count: Int(size), registry: registry),
          headers: octets)
        progress(Int(size))
        return
      }
      var offset: Int64 = 0
      while offset < size {
        let count = Int(min(Int64(Self.chunkSize), size - offset))
        let chunk = try Self.readChunk(file, offset: offset, count: count, registry: registry)
        var headers = octets
        headers["Content-Range"] = "\(offset)-\(offset + Int64(count) - 1)"
        let response = try send(.PATCH, location, headers: headers, body: chunk)
        guard response.status == 202, let next = response.header("Location") else {
          throw OCIError.registry(
            registry: registry, what: "PATCH \(Self.pathOnly(location))",
            reason: Self.reason(status: response.status, body: response.body))
        }
        location = try absolute(next)
        offset += Int64(count)
        progress(count)
      }
      try finishUpload(location, descriptor, body: [], headers: octets)
    }
  }

  private func finishUpload(_ location: String, _ descriptor: Descriptor, body: [UInt8], headers: [String: String])
    throws
  {
    let separator = location.contains("?") ? "&" : "?"
    let target = location + separator + "digest=" + descriptor.digest.description
    let response = try send(.PUT, target, headers: headers, body: body)
    guard response.status == 201 else {
      throw OCIError.registry(
        registry: registry, what: "PUT blob \(descriptor.digest)",
        reason: Self.reason(status: response.status, body: response.body))
    }
  }

  private func absolute(_ location: String) throws -> String {
    if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
    guard location.hasPrefix("/") else {
      throw OCIError.registry(registry: registry, what: "upload", reason: "bad Location \(quotedForError(location))")
    }
    return base + location
  }

  /// `count` bytes of the layer file at `offset` (positioned reads: the file's own offset is left alone).
  static func readChunk(_ file: FileDescriptor, offset: Int64, count: Int, registry: String) throws -> [UInt8] {
    var data = [UInt8](repeating: 0, count: count)
    let read: Int
    do {
      read = try data.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
    } catch let error as SystemError {
      throw SystemError("cannot read the blob for", path: "registry \(registry)", code: error.code)
    }
    guard read == count else {
      throw SystemError("cannot read the blob for", path: "registry \(registry)", code: EIO)
    }
    return data
  }

  /// PUTs a manifest or an index under `reference` (a tag or a digest).
  public func putManifest(_ bytes: [UInt8], mediaType: String, reference tag: String) throws {
    let response = try send(
      .PUT, repositoryPath + "/manifests/" + tag, headers: ["Content-Type": mediaType], body: bytes)
    guard response.status == 201 else {
      throw OCIError.registry(
        registry: registry, what: "PUT \(repositoryPath)/manifests/\(tag)",
        reason: Self.reason(status: response.status, body: response.body))
    }
    let expected = Digest(of: bytes)
    if let answered = response.header("Docker-Content-Digest"), let digest = Digest(answered), digest != expected {
      throw OCIError.digestMismatch(source: "registry \(registry)", expected: expected, actual: digest)
    }
  }

  // MARK: Reading

  /// GETs a manifest or an index by tag or digest: its bytes and media type (checked against the digest when
  /// asked for by digest).
  public func manifest(_ tagOrDigest: String) throws -> (bytes: [UInt8], mediaType: String) {
    let what = "GET \(repositoryPath)/manifests/\(tagOrDigest)"
    let response = try send(
      .GET, repositoryPath + "/manifests/" + tagOrDigest,
      headers: ["Accept": MediaType.acceptedManifests.joined(separator: ", ")])
    guard response.status == 200 else {
      throw OCIError.registry(
        registry: registry, what: what, reason: Self.reason(status: response.status, body: response.body))
    }
    if let digest = Digest(tagOrDigest) {
      let actual = Digest(of: response.body)
      guard actual == digest else {
        throw OCIError.digestMismatch(source: "registry \(registry)", expected: digest, actual: actual)
      }
    }
    var mediaType = response.header("Content-Type") ?? ""
    if let semicolon = mediaType.firstIndex(of: ";") { mediaType = String(mediaType[..<semicolon]) }
    return (response.body, mediaType)
  }

  /// GETs a small blob (a configuration), checked against its descriptor.
  public func blob(_ descriptor: Descriptor) throws -> [UInt8] {
    guard descriptor.size <= Int64(OCILimits.document) else {
      throw OCIError.invalidDocument(
        source: "registry \(registry)", reason: "blob \(descriptor.digest) is too large to read whole")
    }
    let response = try send(.GET, repositoryPath + "/blobs/" + descriptor.digest.description)
    guard response.status == 200 else {
      throw OCIError.registry(
        registry: registry, what: "GET \(repositoryPath)/blobs/\(descriptor.digest)",
        reason: Self.reason(status: response.status, body: response.body))
    }
    try OCILayout.verify(response.body, descriptor, source: "registry \(registry)")
    return response.body
  }

  /// Streams a blob (a layer); see ``RegistryBlobStream``.
  public func openBlob(_ descriptor: Descriptor) throws -> RegistryBlobStream {
    // Authenticate first with a small request, so the stream's own request carries the credentials.
    _ = try hasBlob(descriptor.digest)
    return try transport.stream(
      url(repositoryPath + "/blobs/" + descriptor.digest.description), headers: requestHeaders([:]),
      descriptor: descriptor, what: "GET \(repositoryPath)/blobs/\(descriptor.digest)")
  }
}
