import FoundationEssentials
import SystemSupport

/// How to reach a registry: TLS, and where credentials come from.
public struct RegistryOptions: Sendable, Equatable {
  /// `false` (`--tls-verify=false`) skips the certificate checks, and falls back to plain HTTP when the
  /// registry does not speak TLS (a registry on localhost).
  public var tlsVerify: Bool
  /// `--cert-dir DIR`: CA certificates (`*.crt`) and client certificate pairs (`*.cert` with `*.key`); without
  /// it, `/etc/containers/certs.d/HOST` and `/etc/docker/certs.d/HOST` when they exist (see
  /// ``certificateDirectories(for:)``).
  public var certDirectory: String?
  /// `--creds USER[:PASSWORD]`.
  public var credentials: String?
  /// `--authfile FILE`.
  public var authFile: String?
  /// The environment the default auth files are looked up in.
  public var environment: [String: String]

  /// Options with TLS and the default credential files.
  public init(
    tlsVerify: Bool = true, certDirectory: String? = nil, credentials: String? = nil, authFile: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.tlsVerify = tlsVerify
    self.certDirectory = certDirectory
    self.credentials = credentials
    self.authFile = authFile
    self.environment = environment
  }

  /// The auth files consulted, in order: `--authfile`, else `$REGISTRY_AUTH_FILE`,
  /// `${XDG_RUNTIME_DIR}/containers/auth.json`, `~/.docker/config.json`.
  public var authFiles: [String] {
    if let authFile { return [authFile] }
    var files: [String] = []
    if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { files.append(file) }
    if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
      files.append(runtime + "/containers/auth.json")
    }
    if let home = environment["HOME"], !home.isEmpty { files.append(home + "/.docker/config.json") }
    return files
  }

  /// The user name and password for `host`: `--creds`, else the first auth file with an entry for it.
  /// A missing default file is skipped; a missing `--authfile` or an unreadable file is an error.
  public func credentials(for host: String) throws -> (user: String, password: String)? {
    if let credentials {
      guard let colon = credentials.firstIndex(of: ":") else { return (credentials, "") }
      return (String(credentials[..<colon]), String(credentials[credentials.index(after: colon)...]))
    }
    for file in authFiles {
      guard Path.exists(file) || file == authFile else { continue }
      if let found = try Self.lookUp(host, in: file) { return found }
    }
    return nil
  }

  /// Reads `{"auths": {"HOST": {"auth": base64("user:password")}}}` (also keys written as URLs).
  static func lookUp(_ host: String, in file: String) throws -> (user: String, password: String)? {
    struct AuthFile: Decodable {
      var auths: [String: Entry]?
      struct Entry: Decodable {
        var auth: String?
        var username: String?
        var password: String?
      }
    }
    let bytes = try OCILimits.readDocument(file)
    let parsed = try decodeDocument(AuthFile.self, bytes, source: file)
    for (key, entry) in parsed.auths ?? [:] where normalizedHost(key) == host {
      if let user = entry.username, let password = entry.password { return (user, password) }
      guard let auth = entry.auth, let data = Data(base64Encoded: auth) else {
        throw OCIError.invalidDocument(source: file, reason: "the entry for \(host) has no valid auth")
      }
      let text = String(decoding: data, as: UTF8.self)
      guard let colon = text.firstIndex(of: ":") else {
        throw OCIError.invalidDocument(source: file, reason: "the entry for \(host) is not user:password")
      }
      return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
    return nil
  }

  /// `https://host/v1/` → `host`; Docker Hub's legacy keys name `docker.io`.
  static func normalizedHost(_ key: String) -> String {
    var text = Substring(key)
    for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
    if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
    if text == "index.docker.io" || text == "registry-1.docker.io" { return "docker.io" }
    return String(text)
  }
}
