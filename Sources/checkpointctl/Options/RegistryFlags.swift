import ArgumentParser
import CheckpointKit
import OCI

/// Registry access flags, as skopeo spells them.
struct RegistryFlags: ParsableArguments {
  @Option(
    name: .customLong("tls-verify"),
    help: ArgumentHelp(
      "Verify docker:// registries' TLS certificates (false: no checks, plain HTTP when the registry has no TLS)",
      valueName: "bool"),
    completion: .list(["true", "false"]))
  var tlsVerify: Bool = true

  @Option(
    name: .customLong("cert-dir"),
    help: ArgumentHelp(
      "Registry certificates: CA *.crt files and client *.cert/*.key pairs (default: /etc/containers/certs.d/HOST)",
      valueName: "dir"),
    completion: .directory)
  var certDir: String?

  @Option(help: ArgumentHelp("Registry credentials", valueName: "user:password"))
  var creds: String?

  @Option(
    help: ArgumentHelp(
      "Registry auth file (default: $REGISTRY_AUTH_FILE, …/containers/auth.json, ~/.docker/config.json)",
      valueName: "file"),
    completion: .file())
  var authfile: String?

  var options: RegistryOptions {
    RegistryOptions(tlsVerify: tlsVerify, certDirectory: certDir, credentials: creds, authFile: authfile)
  }
}
