import Foundation
import Glibc
import TestSupport
import Testing

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, on a free port, with its own configuration and
/// storage in a temporary directory; stopped when released.
final class TestRegistry {
  static let available = ImageTools.has("docker-registry") && ImageTools.skopeo
  let directory: TemporaryDirectory
  let port: Int
  private var process: Process?
  private let htpasswd: String?

  /// Starts a registry; with `user`, it asks for Basic authentication (htpasswd, bcrypt); with `tls`, it
  /// serves HTTPS with that certificate and key, and asks clients for a certificate signed by `clientCA`.
  init(user: (String, String)? = nil, tls: (certificate: String, key: String, clientCA: String?)? = nil) throws {
    directory = try TemporaryDirectory()
    port = try Self.freePort()
    if let (name, password) = user {
      let line = try Tool.run("htpasswd", ["-Bbn", name, password]).trimmingCharacters(in: .whitespacesAndNewlines)
      try Files.write(Array((line + "\n").utf8), to: directory.file("htpasswd"))
      htpasswd = directory.file("htpasswd")
    } else {
      htpasswd = nil
    }
    var config = """
      version: 0.1
      log:
        level: info
        accesslog:
          disabled: false
      storage:
        filesystem:
          rootdirectory: \(directory.file("storage"))
      http:
        addr: 127.0.0.1:\(port)

      """
    if let tls {
      config += "  tls:\n    certificate: \(tls.certificate)\n    key: \(tls.key)\n"
      if let clientCA = tls.clientCA { config += "    clientcas:\n      - \(clientCA)\n" }
    }
    if let htpasswd {
      config += "auth:\n  htpasswd:\n    realm: test\n    path: \(htpasswd)\n"
    }
    try Files.write(Array(config.utf8), to: directory.file("config.yml"))
    try start()
  }

  deinit { stop() }

  /// `host:port`.
  var host: String { "127.0.0.1:\(port)" }

  /// The registry's log so far.
  var log: String {
    (try? Files.read(directory.file("registry.log"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
  }

  /// Starts (or restarts, on the same storage) the registry and waits until it answers.
  func start() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["docker-registry", "serve", directory.file("config.yml")]
    FileManager.default.createFile(atPath: directory.file("registry.log"), contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("registry.log")))
    log.seekToEndOfFile()
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
    self.process = process
    for _ in 0..<200 {
      // Answering is not enough: another test's registry could hold the port; this one must still be running.
      if Self.accepts(port) {
        usleep(50_000)
        if process.isRunning { return }
        break
      }
      usleep(25_000)
    }
    stop()
    throw RegistryTestError("docker-registry did not start on port \(port): \(self.log)")
  }

  /// Stops the registry (SIGKILL: as abrupt as a crash) and waits for it.
  func stop() {
    guard let process, process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    self.process = nil
  }

  /// Ports handed out in this process: tests run in parallel, and the kernel may offer a port again once the
  /// probe socket is closed, before the registry binds it.
  nonisolated(unsafe) private static var handedOut: Set<Int> = []
  private static let lock = NSLock()

  private static func freePort() throws -> Int {
    for _ in 0..<20 {
      let port = try probePort()
      let fresh = lock.withLock { handedOut.insert(port).inserted }
      if fresh { return port }
    }
    throw RegistryTestError("no free port")
  }

  private static func probePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw RegistryTestError("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  private static func accepts(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }
}

@Suite(
  .serialized,
  .enabled(if: TestRegistry.available, "docker-registry or skopeo is not installed (make test installs them)"))
struct RegistryTests {
  static let sleep = Fixtures.path("busybox-sleep.tar")

  @Test func pushedImageIsReadBackBySkopeoAndByShow() throws {
    let registry = try TestRegistry()
    let image = "docker://\(registry.host)/checkpoints/sleep:v1"
    let pushed = try CLI.run(["build", Self.sleep, image, "--tls-verify=false"])
    #expect(pushed.status == 0, "\(pushed.stderr)")
    let digest = try #require(pushed.stdout.split(separator: "\n").last.map(String.init))
    // The tag names the index, which carries the annotations; skopeo pulls the image back intact.
    let raw = try Tool.run("skopeo", ["inspect", "--tls-verify=false", "--raw", image])
    #expect(try ImageTools.annotations(raw)["org.criu.checkpoint.container.name"] == "fx-sleep")
    let local = try TemporaryDirectory()
    try Tool.run(
      "skopeo", ["copy", "-q", "--src-tls-verify=false", image, "oci-archive:\(local.file("pulled.tar")):v1"])
    let fromPull = try CLI.run(["show", local.file("pulled.tar")])
    #expect(fromPull.status == 0, "\(fromPull.stderr)")
    #expect(fromPull.stdout.contains("fx-sleep"))
    // show, inspect and memparse stream the layer from the registry.
    let show = try CLI.run(["show", image, "--tls-verify=false"])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(
      show.stdout.split(separator: "\n").dropFirst(2)
        == (try CLI.run(["show", Self.sleep])).stdout.split(separator: "\n").dropFirst(2))
    let memparse = try CLI.run(["memparse", "--pid", "1", image, "--tls-verify=false"])
    #expect(memparse.status == 0, "\(memparse.stderr)")
    let reference = try CLI.run(["memparse", "--pid", "1", Self.sleep])
    #expect(memparse.stdout.split(separator: "\n").dropFirst(2) == reference.stdout.split(separator: "\n").dropFirst(2))
    // Every reader takes the registry flags: decode lists the image or decodes one of its images, diff compares
    // it, coredump writes the same cores as from the archive.
    let decode = try CLI.run(["decode", image + ":checkpoint/pstree.img", "--tls-verify=false"])
    let pstree = try CLI.run(["decode", Self.sleep + ":checkpoint/pstree.img"]).stdout
    #expect(decode.status == 0 && decode.stdout == pstree, "\(decode.stderr)")
    let listing = try CLI.run(["decode", image, "--tls-verify=false"])
    let images = try CLI.run(["decode", Self.sleep]).stdout
    #expect(listing.status == 0 && listing.stdout == images, "\(listing.stderr)")
    let diff = try CLI.run(["diff", Self.sleep, image, "--pages", "--tls-verify=false", "--format", "json"])
    let same = try CLI.run(["diff", Self.sleep, Self.sleep, "--pages", "--format", "json"]).stdout
    #expect(diff.status == 0 && diff.stdout.replacingOccurrences(of: image, with: Self.sleep) == same, "\(diff.stderr)")
    let cores = try TemporaryDirectory()
    let fromImage = try CLI.run(["coredump", "-o", cores.file("image"), image, "--tls-verify=false"])
    #expect(fromImage.status == 0, "\(fromImage.stderr)")
    #expect(try CLI.run(["coredump", "-o", cores.file("file"), Self.sleep]).status == 0)
    let core = try Files.read(cores.file("file/core.1"))
    #expect(try Files.read(cores.file("image/core.1")) == core)
    // TLS is the default: a plain-HTTP registry then fails with one line naming it.
    let tls = try CLI.run(["show", image])
    #expect(tls.status == 1)
    #expect(tls.stderr.hasPrefix("Error: \(image): registry \(registry.host): GET /v2/"), "\(tls.stderr)")
    #expect(tls.stderr.split(separator: "\n").count == 1)
    // A second push of the same image finds every blob present and uploads none.
    let posts = registry.log.components(separatedBy: "\"POST /v2/").count
    let again = try CLI.run(["build", Self.sleep, image, "--tls-verify=false"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.split(separator: "\n").last.map(String.init) == digest)
    #expect(registry.log.components(separatedBy: "\"POST /v2/").count == posts)
  }

  @Test func imageWrittenBySkopeoIsReadFromTheRegistry() throws {
    let registry = try TestRegistry()
    // skopeo writes Podman's checkpoint image into the registry; we read it from there.
    let image = "docker://\(registry.host)/podman/ckimg:latest"
    try Tool.run(
      "skopeo",
      [
        "copy", "-q", "--dest-tls-verify=false", "oci-archive:\(Fixtures.path("podman-checkpoint-image.oci.tar"))",
        image,
      ])
    let show = try CLI.run(["show", image, "--tls-verify=false"])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("fx-ckimg"))
    let missing = try CLI.run(["show", "docker://\(registry.host)/podman/ckimg:nope", "--tls-verify=false"])
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("Error: "))
    #expect(
      missing.stderr.contains(
        "registry \(registry.host): GET /v2/podman/ckimg/manifests/nope: HTTP 404: MANIFEST_UNKNOWN"))
  }

  @Test func htpasswdRegistryNeedsCredentials() throws {
    let registry = try TestRegistry(user: ("alice", "s3cret"))
    let image = "docker://\(registry.host)/private/sleep:v1"
    let anonymous = try CLI.run(
      ["build", Self.sleep, image, "--tls-verify=false"], environment: ["HOME": registry.directory.path])
    #expect(anonymous.status == 1)
    #expect(
      anonymous.stderr.contains("Error: registry \(registry.host): GET /v2/: authentication required"),
      "\(anonymous.stderr)")
    let wrong = try CLI.run(["build", Self.sleep, image, "--tls-verify=false", "--creds", "alice:wrong"])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.contains("credentials were refused"), "\(wrong.stderr)")
    let right = try CLI.run(["build", Self.sleep, image, "--tls-verify=false", "--creds", "alice:s3cret"])
    #expect(right.status == 0, "\(right.stderr)")
    // An auth file as skopeo and Podman write it serves the readers.
    let auth = #"{"auths":{"\#(registry.host)":{"auth":"\#(Data("alice:s3cret".utf8).base64EncodedString())"}}}"#
    try Files.write(Array(auth.utf8), to: registry.directory.file("auth.json"))
    let show = try CLI.run(
      ["show", image, "--tls-verify=false"],
      environment: ["REGISTRY_AUTH_FILE": registry.directory.file("auth.json")])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("fx-sleep"))
    let withCreds = try CLI.run(["inspect", image, "--tls-verify=false", "--creds", "alice:s3cret"])
    #expect(withCreds.status == 0 && withCreds.stdout.contains("fx-sleep"), "\(withCreds.stderr)")
    let withoutCreds = try CLI.run(
      ["inspect", image, "--tls-verify=false"], environment: ["HOME": registry.directory.path])
    #expect(
      withoutCreds.status == 1 && withoutCreds.stderr.contains("authentication required"), "\(withoutCreds.stderr)")
    let inspect = try Tool.run("skopeo", ["inspect", "--tls-verify=false", "--creds", "alice:s3cret", "--raw", image])
    #expect(inspect.contains("io.kubernetes.cri-o.annotations.checkpoint.name"))
  }

  @Test func registryStoppedMidPushLeavesNoTag() throws {
    let registry = try TestRegistry()
    // A checkpoint with a 96 MiB incompressible member: the layer goes up in several PATCH chunks.
    let work = try TemporaryDirectory()
    try Tool.run("cp", [Self.sleep, work.file("big.tar")])
    try Files.write(pseudoRandomBytes(count: 96 << 20), to: work.file("rootfs-diff.tar"))
    try Tool.run("tar", ["rf", work.file("big.tar"), "-C", work.path, "rootfs-diff.tar"])
    let image = "docker://\(registry.host)/checkpoints/big:v1"
    let push = try CLI.start(["build", work.file("big.tar"), image, "--tls-verify=false", "--compression", "none"])
    var sawChunk = false
    for _ in 0..<600 where !sawChunk {
      sawChunk = registry.log.contains("\"PATCH /v2/checkpoints/big/blobs/uploads/")
      if !sawChunk { usleep(10_000) }
    }
    registry.stop()
    let result = push.wait()
    #expect(sawChunk, "the push never reached the registry: \(registry.log)")
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: registry \(registry.host): "), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    // Restarted on the same storage, the registry has no such tag.
    try registry.start()
    let inspect = try Tool.runMerged("skopeo", ["inspect", "--tls-verify=false", "--raw", image])
    #expect(inspect.status != 0)
    #expect(inspect.output.contains("manifest unknown"), "\(inspect.output)")
  }

  @Test func aTamperedLayerIsRefusedOnceRead() throws {
    let registry = try TestRegistry()
    let image = "docker://\(registry.host)/checkpoints/sleep:v1"
    #expect(try CLI.run(["build", Self.sleep, image, "--tls-verify=false", "--compression", "none"]).status == 0)
    #expect(try CLI.run(["show", image, "--tls-verify=false"]).status == 0)
    // distribution serves blobs from its storage as they are: change a byte of the layer's file data there (the
    // archive still reads; only the digest tells).
    let storage = registry.directory.file("storage/docker/registry/v2/blobs/sha256")
    let layer = try #require(
      FileManager.default.subpaths(atPath: storage)?.first {
        $0.hasSuffix("/data") && Files.fileSize(storage + "/" + $0) > 32 << 10
      })
    let original = try Files.read(storage + "/" + layer)
    // A byte of a member's data, and the last byte of the layer (in the end-of-archive blocks, which an archive
    // reader may never look at).
    let needle = Array("fx-sleep".utf8)
    let at = try #require(
      (0..<(original.count - needle.count)).first { Array(original[$0..<$0 + needle.count]) == needle })
    for (offset, value) in [(at, UInt8(ascii: "F")), (original.count - 1, 1)] {
      var bytes = original
      bytes[offset] = value
      try Files.write(bytes, to: storage + "/" + layer)
      for command in ["show", "inspect", "memparse"] {
        let result = try CLI.run([command, image, "--tls-verify=false"])
        #expect(result.status == 1, "\(command) \(offset): \(result.stdout)")
        #expect(result.stderr.contains("registry \(registry.host): blob sha256:"), "\(command): \(result.stderr)")
        #expect(result.stderr.contains(" has digest sha256:"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
      }
    }
  }

  @Test func downRegistryIsOneErrorLine() throws {
    let registry = try TestRegistry()
    registry.stop()
    let result = try CLI.run(["build", Self.sleep, "docker://\(registry.host)/a/b:v1", "--tls-verify=false"])
    #expect(result.status == 1)
    #expect(result.stderr == "Error: registry \(registry.host): GET /v2/: connection refused\n")
    let show = try CLI.run(["show", "docker://\(registry.host)/a/b:v1", "--tls-verify=false"])
    #expect(show.status == 1)
    #expect(show.stderr.contains("registry \(registry.host): GET /v2/: connection refused"), "\(show.stderr)")
  }
}

/// A test registry that could not be set up.
struct RegistryTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
