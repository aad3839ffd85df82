import ArgumentParser
import CheckpointKit
import OCI

/// Registry access flags, as skopeo spells them.
struct RegistryFlags: ParsableArguments {
  @Option(
    name: .customLong("tls-verify"),
    help: ArgumentHelp("Use TLS for docker:// registries (false: plain HTTP)", valueName: "bool"),
    completion: .list(["true", "false"]))
  var tlsVerify: Bool = true

  @Option(help: ArgumentHelp("Registry credentials", valueName: "user:password"))
  var creds: String?

  @Option(
    help: ArgumentHelp(
      "Registry auth file (default: $REGISTRY_AUTH_FILE, …/containers/auth.json, ~/.docker/config.json)",
      valueName: "file"),
    completion: .file())
  var authfile: String?

  var options: RegistryOptions {
    RegistryOptions(tlsVerify: tlsVerify, credentials: creds, authFile: authfile)
  }
}
