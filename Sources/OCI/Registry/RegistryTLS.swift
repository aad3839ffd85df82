import Glibc
import NIOSSL
import SystemSupport

/// TLS the way skopeo sets it up: the system's CAs, plus the CA certificates (`*.crt`) of a certificate
/// directory, and a client certificate (`NAME.cert` with `NAME.key`) when the directory has one.
extension RegistryOptions {
  /// The certificate directories consulted for `host` (`HOST[:PORT]`): `--cert-dir`, else the system's
  /// per-registry directories that exist.
  public func certificateDirectories(for host: String) -> [String] {
    if let certDirectory { return [certDirectory] }
    return ["/etc/containers/certs.d/" + host, "/etc/docker/certs.d/" + host].filter {
      (try? Path.status($0)).flatMap { $0 }.map(Path.isDirectory) ?? false
    }
  }

  /// The client's TLS configuration for `host`. Every file is read now, so a bad one is an error that names
  /// it, before anything is sent.
  func tlsConfiguration(for host: String) throws -> TLSConfiguration {
    var configuration = TLSConfiguration.makeClientConfiguration()
    if !tlsVerify { configuration.certificateVerification = .none }
    for directory in certificateDirectories(for: host) {
      guard let info = try Path.status(directory), Path.isDirectory(info) else {
        throw SystemError("cannot read certificate directory", path: directory, code: ENOTDIR)
      }
      let names = try Path.entries(of: directory).sorted()
      var authorities: [NIOSSLCertificate] = []
      for name in names where name.hasSuffix(".crt") {
        authorities += try Self.certificates(in: Path.join(directory, name))
      }
      if !authorities.isEmpty { configuration.additionalTrustRoots.append(.certificates(authorities)) }
      for name in names where name.hasSuffix(".cert") {
        let certificate = Path.join(directory, name)
        let key = Path.join(directory, String(name.dropLast(".cert".count)) + ".key")
        guard Path.regularFileSize(key) != nil else {
          throw OCIError.invalidDocument(source: certificate, reason: "the client certificate has no key file \(key)")
        }
        configuration.certificateChain = try Self.certificates(in: certificate).map { .certificate($0) }
        do {
          configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        } catch {
          throw OCIError.invalidDocument(source: key, reason: "not a PEM private key")
        }
      }
    }
    return configuration
  }

  /// The PEM certificates of a file.
  private static func certificates(in path: String) throws -> [NIOSSLCertificate] {
    let bytes = try OCILimits.readDocument(path)
    do {
      return try NIOSSLCertificate.fromPEMBytes(bytes)
    } catch {
      throw OCIError.invalidDocument(source: path, reason: "not a PEM certificate")
    }
  }
}
