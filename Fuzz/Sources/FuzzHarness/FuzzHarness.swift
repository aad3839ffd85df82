import Archive
import CRIU
import CheckpointKit
import CoreDump
import Foundation
import Glibc
import OCI
import Rendering
import Scan
import SystemSupport

/// What each fuzz target does with one input: the same code paths the commands take, in process. Every error is
/// expected (hostile input); a trap, a sanitizer report, a leak or a hang is a finding.
///
/// The file is compiled twice: by the fuzz package (`Fuzz/`, with `-sanitize=fuzzer,address`), and, through a
/// symbolic link, by the main package's `CheckpointKitTests`, which replays every file of
/// `Fuzz/Regressions/<target>/` through the same function on every `make test`.
public enum FuzzHarness {
  /// The targets by name (the executable of target `x` is `fuzz-x`, its corpus `Fuzz/Corpus/x`).
  public static let targets: [String: @Sendable ([UInt8]) -> Void] = [
    "criu-image": criuImage,
    "memory": memory,
    "coredump": coreDump,
    "archive": archive,
    "kubelet": kubelet,
    "container-metadata": containerMetadata,
    "encode": encode,
    "oci": oci,
    "pod": pod,
    "scan": scan,
  ]

  /// Separates the files of an input made of several (`FuzzHarness.parts`); it is in every dictionary.
  public static let separator = Array("<<PART>>".utf8)

  /// Splits an input at each ``separator``.
  public static func parts(_ bytes: [UInt8], count: Int) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var start = 0
    var index = 0
    while result.count < count - 1, index + separator.count <= bytes.count {
      if bytes[index] == separator[0], Array(bytes[index..<index + separator.count]) == separator {
        result.append(Array(bytes[start..<index]))
        index += separator.count
        start = index
      } else {
        index += 1
      }
    }
    result.append(Array(bytes[min(start, bytes.count)...]))
    while result.count < count { result.append([]) }
    return result
  }

  // MARK: targets

  /// Any CRIU image, its kind from the magic: framing, crit JSON (plain and pretty), and back to bytes.
  public static func criuImage(_ bytes: [UInt8]) {
    _ = try? ImageFile.scan(bytes)
    guard let image = try? ImageFile(decoding: bytes) else { return }
    for pretty in [false, true] {
      guard let json = try? ImageJSON.decode(image, pretty: pretty) else { continue }
      _ = try? ImageJSON.encode(Array(json.utf8)).encoded()
    }
    _ = try? image.encoded()
    if image.kind.name == "PAGEMAP" { _ = try? PageMap(image: image) }
  }

  /// Images as `memparse` reads them, from a directory: `pstree.img`, then `core-<pid>.img`, `mm-<pid>.img` and
  /// `pagemap-<pid>.img` of its first process, the pages file (named by the pagemap's `pages_id`) and `files.img`, separated by
  /// ``separator``. Runs the size table, three searches, the hexdump of every process and `inspect --all`.
  public static func memory(_ bytes: [UInt8]) {
    withCheckpoint(bytes) { directory in
      _ = try? MemParse.table(directory)
      if let pattern = try? SearchPattern(string: "MEMPARSE_NEEDLE") {
        for (filter, json) in [(MemoryFilter(), false), (heapFilter, true)] {
          _ = try? MemParse.search(path: directory, pattern: pattern, context: 16, pid: nil, filter: filter, json: json)
        }
      }
      if let pattern = try? SearchPattern(regex: "[A-Z]{4,}_[0-9]") {
        _ = try? MemParse.search(
          path: directory, pattern: pattern, context: 4, pid: nil, filter: MemoryFilter(), json: false)
      }
      if let source = try? CheckpointSource(path: directory), let processes = try? source.processes() {
        for process in processes where process.state.hasResources {
          guard let memory = try? source.memory(pid: process.pid) else { continue }
          _ = try? MemoryDump.dump(memory, format: .hex(compact: true)) { _ in }
          _ = try? MemoryDump.dump(memory, format: .raw, filter: heapFilter) { _ in }
        }
      }
      if let report = try? InspectReport(path: directory, options: .all) {
        _ = report.treeText(path: directory)
        _ = InspectReport.json([report])
      }
    }
  }

  /// The same images as ``memory(_:)``, through the ELF core writer into a scratch directory.
  public static func coreDump(_ bytes: [UInt8]) {
    withCheckpoint(bytes) { directory in
      let output = directory + "/cores"
      let options = CoreDumpWriter.Options(outputDirectory: output, force: true)
      _ = try? CoreDumpWriter.write(checkpoint: directory, options: options, note: { _ in }, wrote: { _ in })
    }
  }

  /// Any archive (any compression): listed, every member read, then read as a container checkpoint, an image
  /// listing (`decode`) and a kubelet store archive (`show`).
  public static func archive(_ bytes: [UInt8]) {
    withScratch { scratch in
      let path = scratch + "/input.tar"
      guard write(bytes, to: path) else { return }
      if let reader = try? ArchiveReader(path: path) {
        while let entry = try? reader.next() {
          _ = entry.normalizedPath
          _ = try? reader.readAll(limit: 1 << 20, member: entry.path)
        }
      }
      if let source = try? CheckpointSource(path: path) {
        for name in source.memberNames { _ = try? source.bytes(of: name, limit: 1 << 20) }
      }
      _ = ContainerShowReport(inputs: [path]).table
      if let report = try? InspectReport(path: path, options: .all) {
        _ = report.treeText(path: path)
        _ = InspectReport.json([report])
      }
      _ = try? ImageDecoding.decode(path, pretty: false)
      if let inventory = try? KubeletStore(target: path).inventory() {
        _ = StoreReport.table(inventory, showPodUID: true)
        _ = StoreReport.json(inventory)
      }
    }
  }

  /// `checkpointed.pods` (first part), a second one already in the target (second part) and the contents of
  /// every pod archive (third part): built into a store archive with the project's writer and inserted twice
  /// into a scratch target, then shown.
  public static func kubelet(_ bytes: [UInt8]) {
    let parts = parts(bytes, count: 3)
    if let metadata = try? CheckpointMetadata(json: parts[0], source: "fuzz") { _ = metadata.serialized() }
    withScratch { scratch in
      let archive = scratch + "/store.tar"
      let target = scratch + "/target"
      var members: [(String, [UInt8])] = [(CheckpointMetadata.fileName, parts[0])]
      if let metadata = try? CheckpointMetadata(json: parts[0], source: "fuzz") {
        for name in Set(metadata.pods.compactMap(\.archiveName)) { members.append((name, parts[2])) }
      }
      guard writeArchive(members, to: archive) else { return }
      if !parts[1].isEmpty {
        guard mkdir(target, 0o700) == 0, write(parts[1], to: target + "/" + CheckpointMetadata.fileName) else { return }
      }
      let store = KubeletStore(target: target)
      _ = try? store.insert(archive: archive)
      _ = try? store.insert(archive: archive)
      for path in [archive, target] {
        guard let inventory = try? KubeletStore(target: path).inventory() else { continue }
        _ = StoreReport.table(inventory, showPodUID: true)
        _ = StoreReport.json(inventory)
      }
    }
  }

  /// `config.dump`, `spec.dump`, `network.status` and `stats-dump`, separated by ``separator``: parsed alone,
  /// then as a partial checkpoint directory through `show` and `inspect`.
  public static func containerMetadata(_ bytes: [UInt8]) {
    let parts = parts(bytes, count: 4)
    _ = try? ContainerConfig(json: parts[0], source: "config.dump")
    _ = try? SpecDump(json: parts[1], source: "spec.dump")
    _ = NetworkStatus(parsing: parts[2])
    withScratch { scratch in
      let names = [ContainerConfig.fileName, SpecDump.fileName, InspectReport.networkStatus, InspectReport.statsDump]
      guard mkdir(scratch + "/checkpoint", 0o700) == 0 else { return }
      for (name, part) in zip(names, parts) where !part.isEmpty {
        guard write(part, to: scratch + "/" + name) else { return }
      }
      _ = ContainerShowReport(inputs: [scratch]).table
      var options = InspectOptions()
      options.stats = true
      options.mounts = true
      options.metadata = true
      if let report = try? InspectReport(path: scratch, options: options) {
        _ = report.treeText(path: scratch)
        _ = InspectReport.json([report])
      }
    }
  }

  /// `encode`'s JSON: to image bytes, decoded again, and to JSON again.
  public static func encode(_ bytes: [UInt8]) {
    guard let image = try? ImageJSON.encode(bytes), let encoded = try? image.encoded() else { return }
    guard let decoded = try? ImageFile(decoding: encoded) else { return }
    _ = try? ImageJSON.decode(decoded, pretty: true)
  }

  /// A checkpoint image: `index.json`, the manifest, the configuration, the layer, a reference and an auth file,
  /// separated by ``separator``. In the index and the manifest, `@M@`, `@C@` and `@L@` become the digests of the
  /// manifest, configuration and layer and `@m@`, `@c@` and `@l@` their sizes, so that mutations keep the
  /// references between blobs intact. Each document is parsed alone, then the image is read by `show`, `inspect`
  /// and `memparse` as an `oci:` layout, a plain OCI archive and an `oci-archive:` reference; the reference is
  /// parsed, and the auth file looked up for its registry.
  public static func oci(_ bytes: [UInt8]) {
    let parts = parts(bytes, count: 6)
    let source = "fuzz"
    _ = try? ImageIndex(json: parts[0], source: source)
    _ = try? ImageManifest(json: parts[1], source: source)
    _ = try? ImageConfig(json: parts[2], source: source)
    // The config part is also read as containerd's spec blob (a protobuf Any); a manifest part listing
    // containerd's media types makes the layout a containerd checkpoint image (seed `containerd-image`).
    _ = try? ContainerdImage.anyValue(parts[2], source: source, mediaType: "config")
    let text = String(decoding: parts[4], as: UTF8.self)
    let reference = try? ImageReference(parsing: text)
    if let reference { _ = try? ImageReference(parsing: reference.description) }
    let config = parts[2]
    let layer = parts[3]
    let manifest = substituted(parts[1], [("@C@", config), ("@L@", layer)])
    let index = substituted(parts[0], [("@M@", manifest), ("@C@", config), ("@L@", layer)])
    withScratch { scratch in
      let layout = scratch + "/layout"
      var members: [(String, [UInt8])] = [
        (OCILayout.layoutFile, OCILayout.layoutFileContent), (OCILayout.indexFile, index),
      ]
      for blob in [manifest, config, layer] { members.append((OCILayout.blobName(Digest(of: blob)), blob)) }
      guard mkdir(layout, 0o700) == 0, mkdir(layout + "/blobs", 0o700) == 0,
        mkdir(layout + "/" + OCILayout.blobDirectory, 0o700) == 0
      else { return }
      for (name, member) in members { guard write(member, to: layout + "/" + name) else { return } }
      let archive = scratch + "/image.tar"
      guard writeArchive(members, to: archive) else { return }
      for path in [layout, archive, "oci:" + layout, "oci-archive:" + archive] {
        _ = ContainerShowReport(inputs: [path]).table
        if let report = try? InspectReport(path: path, options: .all) {
          _ = report.treeText(path: path)
          _ = InspectReport.json([report])
        }
        _ = try? MemParse.table(path)
      }
      let auth = scratch + "/auth.json"
      guard write(parts[5], to: auth) else { return }
      var host = "localhost:5000"
      if case .registry(let registry)? = reference { host = registry.host }
      _ = try? RegistryOptions(authFile: auth, environment: [:]).credentials(for: host)
    }
  }

  /// `bytes` with each token replaced by the digest (`@X@`) or the size (`@x@`) of its blob.
  static func substituted(_ bytes: [UInt8], _ blobs: [(token: String, blob: [UInt8])]) -> [UInt8] {
    var result = bytes
    for (token, blob) in blobs {
      result = replacing(Array(token.utf8), with: Array(Digest(of: blob).description.utf8), in: result)
      result = replacing(Array(token.lowercased().utf8), with: Array(String(blob.count).utf8), in: result)
    }
    return result
  }

  static func replacing(_ token: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
      if bytes[index] == token[0], index + token.count <= bytes.count,
        Array(bytes[index..<index + token.count]) == token
      {
        result += replacement
        index += token.count
      } else {
        result.append(bytes[index])
        index += 1
      }
    }
    return result
  }

  // MARK: support

  static let heapFilter: MemoryFilter =
    (try? MemoryFilter(kinds: ["heap", "stack"], permissions: "r", addresses: nil))
    ?? MemoryFilter()

  /// The memory images of ``memory(_:)`` written as an image directory.
  static func withCheckpoint(_ bytes: [UInt8], _ body: (String) -> Void) {
    let parts = parts(bytes, count: 6)
    let pagesID = (try? PageMap.pagesID(ofImage: parts[3])) ?? 1
    // The per-process images are named after the first process of the tree.
    let pid = (try? ImageFile(decoding: parts[0]))?.messages(PstreeEntry.self).first?.pid ?? 1
    let names = [
      "pstree.img", "core-\(pid).img", "mm-\(pid).img", "pagemap-\(pid).img", "pages-\(pagesID).img", "files.img",
    ]
    withScratch { directory in
      for (name, part) in zip(names, parts) where !part.isEmpty || name.hasPrefix("pages-") {
        guard write(part, to: directory + "/" + name) else { return }
      }
      body(directory)
    }
  }

  /// `scan`'s indicators and YARA over one process: the parts are `pstree.img`, `core-<pid>.img`, `mm-<pid>.img`,
  /// `pagemap-<pid>.img`, its pages, `files.img`, `ids-<pid>.img`, the fdinfo image that names, `remap-fpath.img`,
  /// `memfd.img` and one `tcp-stream-959d4.img`; scanned without rules and with a few, rendered as text and JSON.
  public static func scan(_ bytes: [UInt8]) {
    let parts = parts(bytes, count: 11)
    let pagesID = (try? PageMap.pagesID(ofImage: parts[3])) ?? 1
    let pid = (try? ImageFile(decoding: parts[0]))?.messages(PstreeEntry.self).first?.pid ?? 1
    let filesID = (try? ImageFile(decoding: parts[6]))?.messages(TaskKobjIdsEntry.self).first?.filesID ?? 1
    let names = [
      "pstree.img", "core-\(pid).img", "mm-\(pid).img", "pagemap-\(pid).img", "pages-\(pagesID).img", "files.img",
      "ids-\(pid).img", "fdinfo-\(filesID).img", "remap-fpath.img", "memfd.img", "tcp-stream-959d4.img",
    ]
    withScratch { directory in
      for (name, part) in zip(names, parts) where !part.isEmpty || name.hasPrefix("pages-") {
        guard write(part, to: directory + "/" + name) else { return }
      }
      for rules in [nil, scanRules] {
        guard let report = try? CheckpointScan.run(path: directory, options: ScanOptions(rules: rules, matchLimit: 3))
        else { continue }
        _ = report.text
        _ = ScanReport.json([report])
      }
    }
  }

  /// A text, a hex string with a jump and a regular expression, as a rule set has them.
  static let scanRules: YaraRules? = {
    var rules: YaraRules?
    withScratch { directory in
      let text = """
        rule text { strings: $a = "FX_" condition: $a }
        rule code { strings: $c = { 48 31 C0 [0-4] 0F 05 } condition: $c }
        rule url { strings: $u = /[a-z]{3,10}\\.example\\.com/ condition: #u > 0 }
        """
      guard write(Array(text.utf8), to: directory + "/fuzz.yar") else { return }
      rules = try? YaraRules(paths: [directory + "/fuzz.yar"])
    }
    return rules
  }()

  /// Pod checkpoints: the parts are `checkpoint-manifest.json`, `pod-config.json`, `pod.options` and the bytes of
  /// every container archive the manifest names (`containers/<hex>.tar`, `container-<hex>.tar`, legacy
  /// directories' `config.dump`); read as a directory and as a tar of it by `show`, `inspect`'s pod tree, the
  /// show JSON and `diff`'s pairing.
  public static func pod(_ bytes: [UInt8]) {
    let parts = parts(bytes, count: 4)
    withScratch { scratch in
      let directory = scratch + "/pod"
      guard mkdir(directory, 0o700) == 0, mkdir(directory + "/containers", 0o700) == 0 else { return }
      let names = ["checkpoint-manifest.json", "pod-config.json", "pod.options"]
      var members: [(String, [UInt8])] = []
      for (name, part) in zip(names, parts) where !part.isEmpty {
        guard write(part, to: directory + "/" + name) else { return }
        members.append((name, part))
      }
      // The archives the manifest names, each holding the last part.
      if let manifest = try? JSONValue(parsing: parts[0]), let containers = manifest.member("containers")?.arrayValue {
        for archive in containers.prefix(4).compactMap({ $0.member("archive")?.stringValue })
        where !archive.contains("..") && !archive.hasPrefix("/") && archive.utf8.count < 200 {
          guard write(parts[3], to: directory + "/" + archive) else { continue }
          members.append((archive, parts[3]))
        }
      }
      guard writeArchive(members, to: scratch + "/pod.tar") else { return }
      for path in [directory, scratch + "/pod.tar"] {
        guard let pod = try? PodCheckpoint(path: path) else { continue }
        _ = pod.treeText
        _ = pod.showJSON.formatted()
        _ = ContainerShowReport(inputs: [path]).table
        _ = try? PodDiff(path, path)
        for container in pod.containers { _ = try? pod.archiveSHA256(of: container) }
      }
    }
  }

  /// Runs `body` with a fresh private directory, removed afterwards (whatever the body left in it).
  static func withScratch(_ body: (String) -> Void) {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    var template = Array((base + "/checkpointctl-fuzz.XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard let made else { return }
    let path = String(cString: made)
    body(path)
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Writes a file; false when it cannot be.
  static func write(_ bytes: [UInt8], to path: String) -> Bool {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
  }

  /// Writes an uncompressed tar of regular files with the project's writer.
  static func writeArchive(_ members: [(String, [UInt8])], to path: String) -> Bool {
    do {
      let file = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
      let writer = try ArchiveWriter(descriptor: file, compression: .none)
      for (name, bytes) in members { try writer.addFile(named: name, bytes: bytes, modificationTime: 1_700_000_000) }
      try writer.finish()
      try file.close()
      return true
    } catch {
      return false
    }
  }
}
