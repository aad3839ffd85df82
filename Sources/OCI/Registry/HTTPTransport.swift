import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SystemSupport

/// A response read whole (bounded).
struct HTTPResponse {
  var status: Int
  var headers: HTTPHeaders
  var body: [UInt8]

  /// A header, matched case-insensitively.
  func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Synchronous requests over AsyncHTTPClient (the commands are synchronous): each request waits for its
/// future on the calling thread, never on one of the client's event loops. TLS comes from swift-nio-ssl,
/// configured from ``RegistryOptions`` (system CAs, `--cert-dir`, `--tls-verify=false`).
final class HTTPTransport: @unchecked Sendable {
  let client: HTTPClient
  /// Where messages say the request went (`registry 127.0.0.1:5000`).
  let registry: String

  init(registry: String, tls: TLSConfiguration) {
    self.registry = registry
    var pool = HTTPClient.Configuration.ConnectionPool()
    // A registry that is down is one error at once, not retries until the connect timeout.
    pool.retryConnectionEstablishment = false
    let configuration = HTTPClient.Configuration(
      tlsConfiguration: tls, redirectConfiguration: .follow(max: 5, allowCycles: false),
      timeout: .init(connect: .seconds(30), read: .seconds(60)), connectionPool: pool)
    client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }

  deinit { try? client.syncShutdown() }

  /// Sends a request (with `body` when given) and reads at most `limit` bytes of the answer.
  func send(
    _ method: HTTPMethod, _ url: String, headers: HTTPHeaders, body: [UInt8]? = nil, limit: Int = OCILimits.document,
    what: String
  ) throws -> HTTPResponse {
    let request: HTTPClient.Request
    do {
      request = try HTTPClient.Request(url: url, method: method, headers: headers, body: body.map { .bytes($0) })
    } catch {
      throw OCIError.registry(registry: registry, what: what, reason: "bad URL \(quotedForError(url))")
    }
    let response: HTTPClient.Response
    do {
      response = try client.execute(
        request: request, delegate: ResponseAccumulator(request: request, maxBodySize: limit)
      ).wait()
    } catch is ResponseAccumulator.ResponseTooBigError {
      throw OCIError.registry(registry: registry, what: what, reason: "the answer is larger than \(limit) bytes")
    } catch {
      throw OCIError.registry(registry: registry, what: what, reason: Self.describe(error))
    }
    return HTTPResponse(
      status: Int(response.status.code), headers: response.headers,
      body: response.body.map { Array($0.readableBytesView) } ?? [])
  }

  /// Starts reading a blob as a stream (see ``RegistryBlobStream``).
  func stream(_ url: String, headers: HTTPHeaders, descriptor: Descriptor, what: String) throws -> RegistryBlobStream {
    let request: HTTPClient.Request
    do {
      request = try HTTPClient.Request(url: url, method: .GET, headers: headers)
    } catch {
      throw OCIError.registry(registry: registry, what: what, reason: "bad URL \(quotedForError(url))")
    }
    let stream = RegistryBlobStream(descriptor: descriptor, registry: registry, what: what)
    // The client lives as long as the stream reads from it.
    stream.transport = self
    stream.task = client.execute(request: request, delegate: BlobDelegate(stream: stream))
    return stream
  }

  /// True when `error` says the server did not speak TLS (a plain-HTTP registry reached over HTTPS).
  static func isPlainHTTPAnswer(_ error: Error) -> Bool {
    let text = String(describing: error)
    return text.contains("WRONG_VERSION_NUMBER") || text.contains("wrong version number")
      || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST")
  }

  /// A network error in a few words.
  static func describe(_ error: Error) -> String {
    if let error = error as? OCIError { return error.description }
    if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
      return "TLS handshake failed: the registry's certificate does not name this host"
    }
    if error is NIOSSLError || error is BoringSSLError {
      let text = String(describing: error)
      if text.contains("CERTIFICATE_VERIFY_FAILED") {
        return
          "TLS handshake failed: certificate verify failed: the registry's certificate is not signed by a trusted CA "
          + "(give its CA with --cert-dir DIR, or use --tls-verify=false)"
      }
      if isPlainHTTPAnswer(error) {
        return "TLS handshake failed: the registry answered in plain HTTP (use --tls-verify=false)"
      }
      return "TLS handshake failed: " + singleLine(text)
    }
    if let error = error as? HTTPClientError {
      switch error {
      case .connectTimeout: return "timed out connecting"
      case .readTimeout, .deadlineExceeded: return "timed out"
      case .remoteConnectionClosed: return "connection lost"
      case .cancelled: return "cancelled"
      default: return singleLine(String(describing: error))
      }
    }
    if let error = error as? IOError { return Self.connectionReason(error.errnoCode) }
    if let error = error as? NIOConnectionError {
      if error.dnsAAAAError != nil || error.dnsAError != nil, error.connectionErrors.isEmpty {
        return "host not found"
      }
      if let first = error.connectionErrors.first { return describe(first.error) }
      return "cannot connect"
    }
    let text = String(describing: error)
    if text.contains("connection refused") || text.contains("Connection refused") { return "connection refused" }
    return singleLine(text)
  }

  private static func connectionReason(_ code: Int32) -> String {
    SystemError("", path: "", code: code).reason
  }
}

/// Feeds a ``RegistryBlobStream`` from the client's event loop; the body part's future completes when the reader
/// has made room, which stops the transfer meanwhile (back-pressure).
private final class BlobDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
  typealias Response = Void
  let stream: RegistryBlobStream

  init(stream: RegistryBlobStream) { self.stream = stream }

  func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
    stream.received(status: Int(head.status.code))
    return task.eventLoop.makeSucceededVoidFuture()
  }

  func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
    stream.append(buffer, on: task.eventLoop)
  }

  func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) {
    stream.fail(OCIError.registry(registry: stream.registry, what: stream.what, reason: HTTPTransport.describe(error)))
  }

  func didFinishRequest(task: HTTPClient.Task<Void>) throws {
    stream.end()
  }
}

/// A blob streamed from a registry, read in order: the body arrives from the client's event loop into a
/// bounded buffer (the transfer waits while 8 MiB are unread), and the bytes are hashed on the way, so the last
/// read fails if the digest or size is wrong. Nothing is saved to disk.
public final class RegistryBlobStream: @unchecked Sendable {
  /// The blob's descriptor.
  public let descriptor: Descriptor
  let registry: String
  let what: String
  var task: HTTPClient.Task<Void>?
  /// Keeps the client (and its connection) alive while the stream is read.
  var transport: HTTPTransport?
  private let condition = ConditionLock()
  private var buffer: [UInt8] = []
  private var bufferStart = 0
  private var finished = false
  private var failure: OCIError?
  private var status = 0
  private var errorBody: [UInt8] = []
  private var delivered: Int64 = 0
  private var hasher = DigestHasher()
  /// Completed when the reader has made room (the transfer is paused until then).
  private var room: EventLoopPromise<Void>?
  private static let bufferLimit = 8 << 20

  init(descriptor: Descriptor, registry: String, what: String) {
    self.descriptor = descriptor
    self.registry = registry
    self.what = what
  }

  deinit { cancel() }

  /// Stops the transfer.
  public func cancel() {
    let waiting = condition.withLock {
      finished = true
      condition.broadcast()
      defer { room = nil }
      return room
    }
    waiting?.succeed()
    task?.cancel()
    task = nil
    transport = nil
  }

  /// Reads the next bytes into `output`; 0 at the end. Throws when the transfer failed or the blob's digest or
  /// size is not what its descriptor says.
  public func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
    condition.lock()
    while bufferStart == buffer.count && !finished && failure == nil { condition.wait() }
    if let failure {
      condition.unlock()
      throw failure
    }
    let available = buffer.count - bufferStart
    if available == 0 {
      defer { condition.unlock() }
      try verifyEnd()
      return 0
    }
    let count = min(available, output.count)
    buffer.withUnsafeBytes { source in
      output.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[bufferStart..<bufferStart + count]))
    }
    hasher.update(UnsafeRawBufferPointer(rebasing: output[0..<count]))
    bufferStart += count
    delivered += Int64(count)
    if bufferStart == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      bufferStart = 0
    }
    var waiting: EventLoopPromise<Void>?
    if buffer.count - bufferStart <= Self.bufferLimit {
      waiting = room
      room = nil
    }
    condition.unlock()
    waiting?.succeed()
    if delivered == descriptor.size {
      // Everything the descriptor promised: check it before the reader acts on the last bytes.
      condition.lock()
      defer { condition.unlock() }
      while !finished && failure == nil { condition.wait() }
      if let failure { throw failure }
      try verifyEnd()
    }
    return count
  }

  private func verifyEnd() throws {
    guard delivered == descriptor.size && buffer.count == bufferStart else {
      throw OCIError.sizeMismatch(
        source: "registry \(registry)", digest: descriptor.digest, expected: descriptor.size, actual: delivered)
    }
    let actual = hasher.finalize()
    guard actual == descriptor.digest else {
      throw OCIError.digestMismatch(source: "registry \(registry)", expected: descriptor.digest, actual: actual)
    }
  }

  func received(status code: Int) {
    condition.withLock { status = code }
  }

  /// Takes a body part; the future completes when the reader has room for more.
  func append(_ part: ByteBuffer, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
    condition.lock()
    defer { condition.unlock() }
    if finished || failure != nil { return eventLoop.makeSucceededVoidFuture() }
    if status != 200 {
      if errorBody.count < 64 << 10 { errorBody.append(contentsOf: part.readableBytesView.prefix(64 << 10)) }
      return eventLoop.makeSucceededVoidFuture()
    }
    let pending = Int64(buffer.count - bufferStart)
    if pending + delivered + Int64(part.readableBytes) > descriptor.size {
      failLocked(
        .sizeMismatch(
          source: "registry \(registry)", digest: descriptor.digest, expected: descriptor.size,
          actual: delivered + pending + Int64(part.readableBytes)))
      return eventLoop.makeSucceededVoidFuture()
    }
    buffer.append(contentsOf: part.readableBytesView)
    condition.broadcast()
    guard buffer.count - bufferStart > Self.bufferLimit else { return eventLoop.makeSucceededVoidFuture() }
    let promise = eventLoop.makePromise(of: Void.self)
    room = promise
    return promise.futureResult
  }

  func fail(_ error: OCIError) {
    condition.withLock { failLocked(error) }
  }

  func end() {
    condition.withLock {
      if status != 200 && failure == nil {
        failLocked(
          .registry(registry: registry, what: what, reason: RegistryClient.reason(status: status, body: errorBody)))
      }
      finished = true
      condition.broadcast()
    }
  }

  private func failLocked(_ error: OCIError) {
    if failure == nil { failure = error }
    condition.broadcast()
  }
}
