import Foundation
import Glibc
import TestSupport
import Testing

/// A certificate authority and certificates made by `openssl` for a test: the registry's (for 127.0.0.1) and a
/// client's, both signed by the authority.
struct TestCertificates {
  let directory: TemporaryDirectory
  var authority: String { directory.file("ca.crt") }
  var server: (certificate: String, key: String) { (directory.file("server.crt"), directory.file("server.key")) }
  var client: (certificate: String, key: String) { (directory.file("client.cert"), directory.file("client.key")) }

  init() throws {
    directory = try TemporaryDirectory()
    let d = directory
    try Tool.run(
      "openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=checkpointctl test CA",
        "-keyout", d.file("ca.key"), "-out", d.file("ca.crt"),
      ])
    try Files.write(Array("subjectAltName=IP:127.0.0.1\n".utf8), to: d.file("server.ext"))
    for (name, subject, extensions) in [
      ("server", "/CN=127.0.0.1", [d.file("server.ext")]), ("client", "/CN=checkpointctl test client", []),
    ] {
      try Tool.run(
        "openssl",
        [
          "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", d.file(name + ".key"),
          "-out", d.file(name + ".csr"),
        ])
      try Tool.run(
        "openssl",
        [
          "x509", "-req", "-in", d.file(name + ".csr"), "-CA", d.file("ca.crt"), "-CAkey", d.file("ca.key"),
          "-CAcreateserial", "-days", "2", "-out", d.file(name == "server" ? "server.crt" : "client.cert"),
        ]
          + (extensions.isEmpty ? [] : ["-extfile", extensions[0]]))
    }
  }

  /// A `--cert-dir` holding the authority (`ca.crt`) and, with `client`, the client's pair.
  func certDirectory(client: Bool) throws -> TemporaryDirectory {
    let certs = try TemporaryDirectory()
    try Files.write(try Files.read(authority), to: certs.file("ca.crt"))
    if client {
      try Files.write(try Files.read(self.client.certificate), to: certs.file("client.cert"))
      try Files.write(try Files.read(self.client.key), to: certs.file("client.key"))
    }
    return certs
  }
}

/// The registry client over TLS against the real `docker-registry` serving HTTPS with a certificate `openssl`
/// made: verified with `--cert-dir`, refused in one line without it, unverified with `--tls-verify=false`, and
/// a client certificate from `--cert-dir` when the registry asks for one.
@Suite(
  .serialized,
  .enabled(
    if: TestRegistry.available && ImageTools.has("openssl"),
    "docker-registry, skopeo or openssl is not installed (make test installs them)"))
struct RegistryTLSTests {
  static let sleep = Fixtures.path("busybox-sleep.tar")

  @Test func certificateDirectoryVerifiesTheRegistry() throws {
    let certificates = try TestCertificates()
    let registry = try TestRegistry(
      tls: (certificates.server.certificate, certificates.server.key, nil))
    let certs = try certificates.certDirectory(client: false)
    let image = "docker://\(registry.host)/tls/sleep:v1"
    let pushed = try CLI.run(["build", Self.sleep, image, "--cert-dir", certs.path])
    #expect(pushed.status == 0, "\(pushed.stderr)")
    // skopeo, trusting the same authority, reads what was pushed.
    let raw = try Tool.run("skopeo", ["inspect", "--cert-dir", certs.path, "--raw", image])
    #expect(try ImageTools.annotations(raw)["org.criu.checkpoint.container.name"] == "fx-sleep")
    let show = try CLI.run(["show", image, "--cert-dir", certs.path])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("fx-sleep"))
    // Without the authority: one line naming the registry and the certificate problem.
    let refused = try CLI.run(["show", image])
    #expect(refused.status == 1)
    #expect(refused.stderr.hasPrefix("Error: \(image): registry \(registry.host): GET /v2/"), "\(refused.stderr)")
    #expect(refused.stderr.contains("certificate verify failed"), "\(refused.stderr)")
    #expect(refused.stderr.split(separator: "\n").count == 1)
    // --tls-verify=false: TLS without checks.
    let unverified = try CLI.run(["show", image, "--tls-verify=false"])
    #expect(unverified.status == 0, "\(unverified.stderr)")
    #expect(unverified.stdout == show.stdout)
    // A --cert-dir that is not a directory, or holds a broken certificate, is an error naming it.
    let missing = try CLI.run(["show", image, "--cert-dir", certs.file("missing")])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains(certs.file("missing")), "\(missing.stderr)")
    try Files.write(Array("not a certificate\n".utf8), to: certs.file("broken.crt"))
    let broken = try CLI.run(["show", image, "--cert-dir", certs.path])
    #expect(broken.status == 1)
    #expect(broken.stderr.contains("broken.crt: not a PEM certificate"), "\(broken.stderr)")
  }

  @Test func clientCertificateFromTheCertificateDirectory() throws {
    let certificates = try TestCertificates()
    let registry = try TestRegistry(
      tls: (certificates.server.certificate, certificates.server.key, certificates.authority))
    let image = "docker://\(registry.host)/tls/client:v1"
    let withClient = try certificates.certDirectory(client: true)
    let pushed = try CLI.run(["build", Self.sleep, image, "--cert-dir", withClient.path])
    #expect(pushed.status == 0, "\(pushed.stderr)")
    let show = try CLI.run(["show", image, "--cert-dir", withClient.path])
    #expect(show.status == 0, "\(show.stderr)")
    // The registry refuses a client without a certificate.
    let authorityOnly = try certificates.certDirectory(client: false)
    let anonymous = try CLI.run(["show", image, "--cert-dir", authorityOnly.path])
    #expect(anonymous.status == 1)
    #expect(anonymous.stderr.split(separator: "\n").count == 1, "\(anonymous.stderr)")
    #expect(anonymous.stderr.contains("registry \(registry.host)"), "\(anonymous.stderr)")
  }
}
