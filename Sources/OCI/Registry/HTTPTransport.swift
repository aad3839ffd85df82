import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A response read whole (bounded).
struct HTTPResponse {
  var status: Int
  var headers: [String: String]
  var body: [UInt8]

  /// A header, matched case-insensitively.
  func header(_ name: String) -> String? {
    let lower = name.lowercased()
    return headers.first { $0.key.lowercased() == lower }?.value
  }
}

/// Synchronous requests over FoundationNetworking's `URLSession` (the commands are synchronous): each request
/// waits on a semaphore for its completion handler.
final class HTTPTransport: @unchecked Sendable {
  let session: URLSession
  private let decliner = ChallengeDecliner()
  /// Where messages say the request went (`registry 127.0.0.1:5000`).
  let registry: String

  init(registry: String) {
    self.registry = registry
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 60
    configuration.httpMaximumConnectionsPerHost = 1
    configuration.urlCache = nil
    // A delegate that declines every authentication challenge: the 401 then comes back as a response and
    // RegistryClient answers it (without one, FoundationNetworking never completes a task answered 401).
    session = URLSession(configuration: configuration, delegate: decliner, delegateQueue: nil)
  }

  deinit { session.finishTasksAndInvalidate() }

  /// Sends `request` (with `body` as an upload when given) and reads at most `limit` bytes of the answer.
  func send(_ request: URLRequest, body: Data? = nil, limit: Int = OCILimits.document, what: String) throws
    -> HTTPResponse
  {
    final class Outcome: @unchecked Sendable {
      var data: Data?
      var response: URLResponse?
      var error: Error?
    }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let handler: @Sendable (Data?, URLResponse?, Error?) -> Void = { data, response, error in
      outcome.data = data
      outcome.response = response
      outcome.error = error
      done.signal()
    }
    let task: URLSessionTask
    if let body {
      task = session.uploadTask(with: request, from: body, completionHandler: handler)
    } else {
      task = session.dataTask(with: request, completionHandler: handler)
    }
    task.resume()
    done.wait()
    if let headers = decliner.challenge(of: task) {
      return HTTPResponse(status: 401, headers: headers, body: [])
    }
    if let error = outcome.error {
      throw OCIError.registry(registry: registry, what: what, reason: Self.describe(error))
    }
    guard let http = outcome.response as? HTTPURLResponse else {
      throw OCIError.registry(registry: registry, what: what, reason: "no HTTP response")
    }
    let data = outcome.data ?? Data()
    guard data.count <= limit else {
      throw OCIError.registry(registry: registry, what: what, reason: "the answer is larger than \(limit) bytes")
    }
    var headers: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
      if let key = key as? String, let value = value as? String { headers[key] = value }
    }
    return HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
  }

  /// A network error in a few words.
  static func describe(_ error: Error) -> String {
    guard let error = error as? URLError else { return "\(error)" }
    switch error.code {
    case .cannotConnectToHost: return "connection refused"
    case .timedOut: return "timed out"
    case .networkConnectionLost: return "connection lost"
    case .cannotFindHost, .dnsLookupFailed: return "host not found"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
      .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
      return "TLS handshake failed (use --tls-verify=false for a plain-HTTP registry)"
    case .badServerResponse: return "bad server response (a plain-HTTP registry needs --tls-verify=false)"
    default: return error.localizedDescription
    }
  }
}

/// A blob streamed from a registry, read in order: the body arrives through a `URLSession` delegate into a
/// bounded buffer (the delegate waits while 8 MiB are unread, which stops the transfer), and the bytes are hashed
/// on the way, so the last read fails if the digest or size is wrong. Nothing is saved to disk.
public final class RegistryBlobStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  /// The blob's descriptor.
  public let descriptor: Descriptor
  private let condition = NSCondition()
  private var buffer: [UInt8] = []
  private var bufferStart = 0
  private var finished = false
  private var failure: OCIError?
  private var status = 0
  private var errorBody: [UInt8] = []
  private var delivered: Int64 = 0
  private var hasher = DigestHasher()
  private var session: URLSession?
  private let registry: String
  private let what: String
  private static let bufferLimit = 8 << 20

  init(request: URLRequest, descriptor: Descriptor, registry: String, what: String) {
    self.descriptor = descriptor
    self.registry = registry
    self.what = what
    super.init()
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 60
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    self.session = session
    session.dataTask(with: request).resume()
  }

  deinit { session?.invalidateAndCancel() }

  /// Stops the transfer.
  public func cancel() {
    condition.lock()
    finished = true
    condition.broadcast()
    condition.unlock()
    session?.invalidateAndCancel()
    session = nil
  }

  /// Reads the next bytes into `output`; 0 at the end. Throws when the transfer failed or the blob's digest or
  /// size is not what its descriptor says.
  public func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
    condition.lock()
    defer { condition.unlock() }
    while bufferStart == buffer.count && !finished && failure == nil { condition.wait() }
    if let failure { throw failure }
    let available = buffer.count - bufferStart
    if available == 0 {
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
    condition.broadcast()
    if delivered == descriptor.size {
      // Everything the descriptor promised: check it before the reader acts on the last bytes.
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

  private func fail(_ error: OCIError) {
    if failure == nil { failure = error }
    condition.broadcast()
  }

  public func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
  ) {
    condition.lock()
    status = (response as? HTTPURLResponse)?.statusCode ?? 0
    condition.unlock()
    completionHandler(.allow)
  }

  public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    condition.lock()
    defer { condition.unlock() }
    if status != 200 {
      if errorBody.count < 64 << 10 { errorBody.append(contentsOf: data.prefix(64 << 10)) }
      return
    }
    if Int64(buffer.count - bufferStart) + delivered + Int64(data.count) > descriptor.size {
      fail(
        .sizeMismatch(
          source: "registry \(registry)", digest: descriptor.digest, expected: descriptor.size,
          actual: delivered + Int64(buffer.count - bufferStart + data.count)))
      return
    }
    buffer.append(contentsOf: data)
    condition.broadcast()
    // Back-pressure: the transfer waits while the reader is behind.
    while buffer.count - bufferStart > Self.bufferLimit && !finished && failure == nil { condition.wait() }
  }

  public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    condition.lock()
    defer { condition.unlock() }
    if let error {
      fail(.registry(registry: registry, what: what, reason: HTTPTransport.describe(error)))
    } else if status != 200 {
      fail(.registry(registry: registry, what: what, reason: RegistryClient.reason(status: status, body: errorBody)))
    }
    finished = true
    condition.broadcast()
  }
}

/// Declines authentication challenges and remembers them: FoundationNetworking turns a 401 with a Basic
/// challenge into a challenge (and never completes the task when none is answered), so the challenge is
/// declined here and ``HTTPTransport`` reports it as the 401 response it was; RegistryClient answers it.
final class ChallengeDecliner: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
  private let lock = NSLock()
  private var challenges: [Int: [String: String]] = [:]

  func urlSession(
    _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
  ) {
    var headers: [String: String] = [:]
    if let response = challenge.failureResponse as? HTTPURLResponse {
      for (key, value) in response.allHeaderFields {
        if let key = key as? String, let value = value as? String { headers[key] = value }
      }
    }
    lock.lock()
    challenges[task.taskIdentifier] = headers
    lock.unlock()
    completionHandler(.rejectProtectionSpace, nil)
  }

  /// The headers of the 401 that challenged `task`, if it was challenged.
  func challenge(of task: URLSessionTask) -> [String: String]? {
    lock.lock()
    defer { lock.unlock() }
    return challenges.removeValue(forKey: task.taskIdentifier)
  }
}
