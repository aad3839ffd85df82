import Foundation
import Glibc

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A client of one repository in a registry speaking the OCI distribution API (as distribution v2.8 does):
/// blob uploads (HEAD to skip what is there, POST then PUT with the digest, or PATCH chunks for large blobs),
/// manifest and index PUTs, and reads. Basic and bearer-token authentication, answered when the registry
/// asks (401 with `WWW-Authenticate`).
public final class RegistryClient {
  /// The repository and tag.
  public let reference: RegistryReference
  let options: RegistryOptions
  let transport: HTTPTransport
  let base: String
  private var authorization: String?
  private var triedCredentials = false
  private var pinged = false
  /// Blobs larger than this are sent in PATCH chunks of this size: memory stays bounded (URLSession holds about
  /// three copies of a request body; 16 MiB chunks took a 1 GiB push to 89 MiB of peak RSS).
  static let chunkSize = 4 << 20

  /// A client for `reference`; nothing is sent yet.
  public init(reference: RegistryReference, options: RegistryOptions) throws {
    self.reference = reference
    self.options = options
    let host = reference.host == "docker.io" ? "registry-1.docker.io" : reference.host
    base = (options.tlsVerify ? "https://" : "http://") + host
    transport = HTTPTransport(registry: reference.host)
  }

  /// Where messages say things happened: the registry host.
  public var registry: String { reference.host }

  private var repositoryPath: String { "/v2/" + reference.repository }

  // MARK: Requests

  /// Sends a request, answering one authentication challenge.
  func send(
    _ method: String, _ target: String, headers: [String: String] = [:], body: Data? = nil,
    limit: Int = OCILimits.document
  ) throws -> HTTPResponse {
    try ping()
    let what = method + " " + Self.pathOnly(target)
    var response = try transport.send(
      makeRequest(method, target, headers: headers), body: body, limit: limit, what: what)
    if response.status == 401 {
      try authenticate(response, what: what)
      response = try transport.send(makeRequest(method, target, headers: headers), body: body, limit: limit, what: what)
      if response.status == 401 || response.status == 403 {
        throw OCIError.registry(
          registry: registry, what: what,
          reason: Self.reason(status: response.status, body: response.body) + " (check the credentials)")
      }
    }
    return response
  }

  /// `GET /v2/` once, answering its challenge before anything else is sent (a HEAD answered 401 never
  /// completes in FoundationNetworking, so authentication must come first).
  private func ping() throws {
    guard !pinged else { return }
    pinged = true
    let response = try transport.send(makeRequest("GET", "/v2/"), what: "GET /v2/")
    switch response.status {
    case 200: return
    case 401:
      try authenticate(response, what: "GET /v2/")
      let again = try transport.send(makeRequest("GET", "/v2/"), what: "GET /v2/")
      guard again.status == 200 else {
        throw OCIError.registry(
          registry: registry, what: "GET /v2/",
          reason: Self.reason(status: again.status, body: again.body) + " (the credentials were refused)")
      }
    default:
      throw OCIError.registry(
        registry: registry, what: "GET /v2/", reason: Self.reason(status: response.status, body: response.body))
    }
  }

  func makeRequest(_ method: String, _ target: String, headers: [String: String] = [:]) throws -> URLRequest {
    let text = target.hasPrefix("http://") || target.hasPrefix("https://") ? target : base + target
    guard let url = URL(string: text) else {
      throw OCIError.registry(registry: registry, what: method, reason: "bad URL \(quotedForError(text))")
    }
    var request = URLRequest(url: url)
    request.httpMethod = method
    for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
    if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
    return request
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
    guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
      throw OCIError.registry(registry: registry, what: what, reason: "bearer challenge without a realm")
    }
    var query = components.queryItems ?? []
    if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
    query.append(
      URLQueryItem(name: "scope", value: parameters["scope"] ?? "repository:\(reference.repository):pull,push"))
    components.queryItems = query
    guard let url = components.url else {
      throw OCIError.registry(registry: registry, what: what, reason: "bad token realm \(quotedForError(realm))")
    }
    var request = URLRequest(url: url)
    if let basic { request.setValue(basic, forHTTPHeaderField: "Authorization") }
    let answer = try transport.send(request, what: "GET token from \(url.host ?? realm)")
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

  /// `realm="…",service="…",scope="…"`.
  static func challengeParameters(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    var rest = Substring(text).drop(while: { $0 == " " })
    while let equals = rest.firstIndex(of: "=") {
      let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,")).lowercased()
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
    return text.replacingOccurrences(of: "\n", with: " ")
  }

  static func pathOnly(_ target: String) -> String {
    guard let url = URL(string: target), url.host != nil else {
      return String(target.prefix(while: { $0 != "?" }))
    }
    return url.path
  }

  // MARK: Pushing

  /// What a blob upload sends.
  public enum BlobBody {
    /// Bytes in memory.
    case bytes([UInt8])
    /// `size` bytes of an open file, from offset 0, read in chunks.
    case file(fd: Int32, size: Int64)
  }

  /// True when the repository has the blob (HEAD → 200).
  public func hasBlob(_ digest: Digest) throws -> Bool {
    let response = try send("HEAD", repositoryPath + "/blobs/" + digest.description)
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
    let start = try send("POST", repositoryPath + "/blobs/uploads/")
    guard start.status == 202, var location = start.header("Location") else {
      throw OCIError.registry(
        registry: registry, what: "POST \(repositoryPath)/blobs/uploads/",
        reason: Self.reason(status: start.status, body: start.body))
    }
    location = try absolute(location)
    let octets = ["Content-Type": "application/octet-stream"]
    switch body {
    case .bytes(let bytes):
      try finishUpload(location, descriptor, body: Data(bytes), headers: octets)
      progress(bytes.count)
    case .file(let fd, let size):
      guard size > Int64(Self.chunkSize) else {
        try finishUpload(
          location, descriptor, body: try Self.readChunk(fd, offset: 0, count: Int(size), registry: registry),
          headers: octets)
        progress(Int(size))
        return
      }
      var offset: Int64 = 0
      while offset < size {
        let count = Int(min(Int64(Self.chunkSize), size - offset))
        let chunk = try Self.readChunk(fd, offset: offset, count: count, registry: registry)
        var headers = octets
        headers["Content-Range"] = "\(offset)-\(offset + Int64(count) - 1)"
        let response = try send("PATCH", location, headers: headers, body: chunk)
        guard response.status == 202, let next = response.header("Location") else {
          throw OCIError.registry(
            registry: registry, what: "PATCH \(Self.pathOnly(location))",
            reason: Self.reason(status: response.status, body: response.body))
        }
        location = try absolute(next)
        offset += Int64(count)
        progress(count)
      }
      try finishUpload(location, descriptor, body: Data(), headers: octets)
    }
  }

  private func finishUpload(_ location: String, _ descriptor: Descriptor, body: Data, headers: [String: String])
    throws
  {
    let separator = location.contains("?") ? "&" : "?"
    let target = location + separator + "digest=" + descriptor.digest.description
    let response = try send("PUT", target, headers: headers, body: body)
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

  static func readChunk(_ fd: Int32, offset: Int64, count: Int, registry: String) throws -> Data {
    var data = Data(count: count)
    var done = 0
    let failed = data.withUnsafeMutableBytes { buffer -> Int32? in
      guard let base = buffer.baseAddress else { return nil }
      while done < count {
        let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        if n == 0 { return EIO }
        done += n
      }
      return nil
    }
    if let failed { throw OCIError.file(operation: "read the blob for", path: "registry \(registry)", errno: failed) }
    return data
  }

  /// PUTs a manifest or an index under `reference` (a tag or a digest).
  public func putManifest(_ bytes: [UInt8], mediaType: String, reference tag: String) throws {
    let response = try send(
      "PUT", repositoryPath + "/manifests/" + tag, headers: ["Content-Type": mediaType], body: Data(bytes))
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
      "GET", repositoryPath + "/manifests/" + tagOrDigest,
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
    let response = try send("GET", repositoryPath + "/blobs/" + descriptor.digest.description)
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
    let request = try makeRequest("GET", repositoryPath + "/blobs/" + descriptor.digest.description)
    return RegistryBlobStream(
      request: request, descriptor: descriptor, registry: registry,
      what: "GET \(repositoryPath)/blobs/\(descriptor.digest)")
  }
}
