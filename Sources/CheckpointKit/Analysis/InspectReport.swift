import CRIU

/// Everything `inspect` shows about one container checkpoint, read in one pass over it.
public struct InspectReport: Sendable {
  /// Podman's network status member (netavark/CNI results, or `null`).
  public static let networkStatus = "network.status"
  /// CRIU's dump statistics image, at the archive root.
  public static let statsDump = "stats-dump"

  /// The container's metadata and sizes.
  public var checkpoint: ContainerCheckpoint
  /// Podman's interfaces from `network.status`, sorted by network, then interface.
  public var networks: [NetworkInterface]
  /// CRIU dump statistics (`--stats`), `nil` when not asked for or absent.
  public var statistics: DumpStatistics?
  /// `spec.dump`'s mounts (`--mounts`), `nil` when not asked for.
  public var mounts: [SpecMount]?
  /// True when the metadata section is shown (`--metadata`).
  public var showsMetadata: Bool
  /// The process tree's roots (`--ps-tree` and the flags implying it), `nil` when not asked for.
  public var processTree: [InspectedProcess]?
  /// The root file system changes (`--rootfs-diff`), `nil` when not asked for.
  public var rootFSDiff: RootFSDiff?
  /// CRIU's inventory facts and dump log (`--dump-log`), `nil` when not asked for.
  public var criu: CRIUSummary?
  /// What was left out and why (a `network.status` that is not JSON), for standard error.
  public var warnings: [String] = []

  /// Opens `path` (an archive of any compression, or a checkpoint directory) and reads what `options` ask for.
  public init(path: String, options: InspectOptions) throws {
    try self.init(source: CheckpointSource(path: path, selection: options.selection), options: options)
  }

  /// Reads what `options` ask for from an opened checkpoint.
  public init(source: CheckpointSource, options: InspectOptions) throws {
    checkpoint = try ContainerCheckpoint(source: source)
    networks = []
    if source.contains(Self.networkStatus) {
      // Upstream shows the container without network details when network.status is unreadable; so does this,
      // saying why.
      let bytes = try source.bytes(of: Self.networkStatus)
      if let reason = JSONSyntax.firstError(in: bytes) {
        warnings.append(
          "\(source.displayPath):\(Self.networkStatus) is not valid JSON (\(reason)): network details are not shown")
      } else {
        networks = NetworkInterface.parse(networkStatus: bytes)
      }
    }
    statistics =
      options.stats
      ? try CheckpointError.inView("failed to get dump statistics") { try DumpStatistics(source: source) } : nil
    mounts = options.mounts ? try SpecMount.read(from: source) : nil
    showsMetadata = options.metadata
    processTree = options.showsProcessTree ? try InspectedProcess.tree(of: source, options: options) : nil
    rootFSDiff = options.rootFSDiff ? try RootFSDiff(source: source) : nil
    criu = options.dumpLog ? try CRIUSummary(source: source) : nil
  }
}

/// One interface of Podman's `network.status`.
public struct NetworkInterface: Equatable, Sendable {
  /// The network's name (`podman`).
  public var network: String
  /// The interface's name inside the container (`eth0`).
  public var interface: String
  /// The first subnet's address with prefix (`10.88.0.6/16`).
  public var ip: String
  /// The MAC address.
  public var mac: String
  /// The first subnet's gateway.
  public var gateway: String

  /// An interface with these fields.
  public init(network: String, interface: String, ip: String, mac: String, gateway: String) {
    self.network = network
    self.interface = interface
    self.ip = ip
    self.mac = mac
    self.gateway = gateway
  }

  /// The interfaces of `{net: {interfaces: {if: {subnets: [{ipnet, gateway}], mac_address}}}}`, sorted by
  /// network and interface; anything unreadable (including `null`) gives none, as upstream ignores it.
  public static func parse(networkStatus bytes: [UInt8]) -> [NetworkInterface] {
    guard let networks = (try? JSONValue(parsing: bytes))?.objectValue else { return [] }
    var result: [NetworkInterface] = []
    for network in networks.keys.sorted() {
      guard let interfaces = networks[network]?.objectValue?["interfaces"]?.objectValue else { continue }
      for interface in interfaces.keys.sorted() {
        let fields = interfaces[interface]?.objectValue ?? [:]
        let subnet = fields["subnets"]?.arrayValue?.first?.objectValue ?? [:]
        result.append(
          NetworkInterface(
            network: network, interface: interface, ip: subnet["ipnet"]?.stringValue ?? "",
            mac: fields["mac_address"]?.stringValue ?? "", gateway: subnet["gateway"]?.stringValue ?? ""))
      }
    }
    return result
  }
}

/// CRIU's dump statistics (`stats-dump`, a STATS image): times in microseconds, page counts.
public struct DumpStatistics: Equatable, Sendable {
  /// Time to freeze the tasks, µs.
  public var freezingTime: UInt64
  /// Time the tasks stayed frozen, µs.
  public var frozenTime: UInt64
  /// Time to collect memory, µs.
  public var memdumpTime: UInt64
  /// Time to write memory, µs.
  public var memwriteTime: UInt64
  /// Pages looked at.
  public var pagesScanned: UInt64
  /// Pages written to `pages-*.img`.
  public var pagesWritten: UInt64

  /// Decodes the source's `stats-dump`, which must be there; `nil` when it holds no dump statistics.
  public init?(source: CheckpointSource) throws {
    let image: ImageFile
    do {
      image = try ImageFile(decoding: source.bytes(of: InspectReport.statsDump))
    } catch let error as CRIUImageError {
      throw CheckpointError.corruptImage(source: source.displayPath, member: InspectReport.statsDump, error)
    }
    guard let dump = image.messages(StatsEntry.self).first?.dump else { return nil }
    freezingTime = UInt64(dump.freezingTime)
    frozenTime = UInt64(dump.frozenTime)
    memdumpTime = UInt64(dump.memdumpTime)
    memwriteTime = UInt64(dump.memwriteTime)
    pagesScanned = dump.pagesScanned
    pagesWritten = dump.pagesWritten
  }

  /// A duration in microseconds as upstream shows it: `677 µs`, `3.208 ms`, `1.5 s` (5 significant digits).
  public static func duration(microseconds: UInt64) -> String {
    if microseconds < 1000 { return "\(microseconds) µs" }
    if microseconds < 1_000_000 { return significant(Double(microseconds) / 1000) + " ms" }
    return significant(Double(microseconds) / 1_000_000) + " s"
  }

  /// `%.5g` without an exponent for the magnitudes used here, trailing zeros trimmed.
  static func significant(_ value: Double) -> String {
    let digits = max(0, 5 - String(Int(value)).count)
    var text = String(format: "%.\(digits)f", value)
    if text.contains(".") {
      while text.hasSuffix("0") { text.removeLast() }
      if text.hasSuffix(".") { text.removeLast() }
    }
    return text
  }
}

/// One mount of `spec.dump` (the OCI spec's `mounts`), as the container saw it.
public struct SpecMount: Decodable, Equatable, Sendable {
  /// Where it is mounted in the container.
  public var destination: String
  /// The file system type.
  public var type: String
  /// The source: a host path for bind mounts.
  public var source: String

  enum CodingKeys: String, CodingKey {
    case destination, type, source
  }

  /// A mount with these fields.
  public init(destination: String, type: String, source: String) {
    self.destination = destination
    self.type = type
    self.source = source
  }

  /// Decodes one mount; absent fields are empty.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    destination = try container.decodeIfPresent(String.self, forKey: .destination) ?? ""
    type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
    source = try container.decodeIfPresent(String.self, forKey: .source) ?? ""
  }

  /// The mounts of the source's `spec.dump`, in the spec's order.
  public static func read(from source: CheckpointSource) throws -> [SpecMount] {
    struct Spec: Decodable {
      var mounts: [SpecMount]?
    }
    let spec = try decodeMember(
      Spec.self, source.bytes(of: SpecDump.fileName), source: source.displayPath, member: SpecDump.fileName)
    return spec.mounts ?? []
  }
}
