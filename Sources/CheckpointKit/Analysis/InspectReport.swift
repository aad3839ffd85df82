import Archive
import CRIU
import SystemSupport

/// Everything `inspect` shows about one container checkpoint, read in one pass over it.
public struct InspectReport: Sendable {
  /// Podman's network status member (netavark/CNI results, or `null`).
  public static let networkStatus = CheckpointMember.networkStatus.name
  /// CRIU's dump statistics image, at the archive root.
  public static let statsDump = CheckpointMember.statsDump.name

  /// The container's metadata and sizes.
  public var checkpoint: ContainerCheckpoint
  /// Podman's networks from `network.status`, sorted by network, then interface.
  public var network: NetworkStatus
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
  /// The end of the container's log (`--log`): `nil` when not asked for, `.some(nil)` when the checkpoint has none.
  public var containerLog: ContainerLog??
  /// The files of `/dev/shm` (`--devshm`): `nil` when not asked for, `.some(nil)` when the checkpoint has no
  /// `devshm-checkpoint.tar`.
  public var devShm: SavedDirectory??
  /// Podman's named volumes (`--volumes`), `nil` when not asked for.
  public var volumes: [SavedDirectory]?
  /// What was left out and why (a `network.status` that is not JSON), for standard error after the output.
  public var warnings: [String] = []
  /// The views `--all` left out because the checkpoint cannot give them, each with the reason (naming the
  /// missing file), for standard error after the output.
  public var notes: [String] = []

  /// Opens `path` (an archive of any compression, or a checkpoint directory) and reads what `options` ask for.
  public init(path: String, options: InspectOptions) throws {
    try self.init(
      source: CheckpointSource(path: path, selection: options.selection, registry: options.registry), options: options)
  }

  /// Reads what `options` ask for from an opened checkpoint.
  public init(source: CheckpointSource, options: InspectOptions) throws {
    let bare = options.readsBareImages && ContainerCheckpoint.holdsBareImages(source)
    checkpoint = try bare ? ContainerCheckpoint(bareImages: source) : ContainerCheckpoint(source: source)
    network = NetworkStatus()
    if source.contains(Self.networkStatus) {
      // Upstream shows the container without network details when network.status is unreadable; so does this,
      // saying why.
      let bytes = try source.bytes(of: Self.networkStatus)
      if let reason = JSONSyntax.firstError(in: bytes) {
        warnings.append(
          "\(source.displayPath):\(Self.networkStatus) is not valid JSON (\(reason)): network details are not shown")
      } else {
        network = NetworkStatus(parsing: bytes)
      }
    }
    // A bare image directory has no spec: no mounts and no annotations to show.
    mounts = options.mounts && !bare ? try SpecMount.read(from: source) : nil
    showsMetadata = options.metadata && !bare
    var options = options
    var notes: [String] = []
    /// Runs the view; when it fails for want of a member and `--all` alone asked for it, turns it off with a note.
    func view<T>(_ view: InspectView, _ body: () throws -> T) throws -> T? {
      guard options.shows(view) else { return nil }
      do {
        return try body()
      } catch {
        let error = CheckpointError.explained(error, source: source)
        guard options.optionalViews.contains(view), CheckpointError.missingMember(causing: error) != nil else {
          throw error
        }
        notes.append("\(source.displayPath): \(view.flag) is not shown: \(error)")
        options.set(view, false)
        return nil
      }
    }
    statistics =
      try view(.stats) {
        try CheckpointError.inView("failed to get dump statistics") { try DumpStatistics(source: source) }
      } ?? nil
    if options.showsProcessTree {
      do {
        processTree = try InspectedProcess.tree(of: source, options: options)
      } catch {
        guard !options.optionalViews.isEmpty else { throw CheckpointError.explained(error, source: source) }
        // Which view failed: the tree alone first (when it cannot be read, none of its details can), then each
        // detail on its own; what is left is read once more.
        if try view(.processTree, { try InspectedProcess.tree(of: source, options: options.treeOnly()) }) != nil {
          for detail in InspectView.processDetails {
            _ = try view(detail) { try InspectedProcess.tree(of: source, options: options.treeOnly(with: detail)) }
          }
          processTree = try view(.processTree) { try InspectedProcess.tree(of: source, options: options) }
        }
      }
    }
    rootFSDiff = try view(.rootFSDiff) { try RootFSDiff(source: source) }
    criu = try view(.dumpLog) { try CRIUSummary(source: source) }
    containerLog = try view(.log) { try ContainerLog(source: source, lines: options.logLines) }
    devShm = try view(.devShm) { try SavedDirectory.devShm(of: source) }
    volumes = try view(.volumes) { try SavedDirectory.volumes(of: source) }
    self.notes = notes
  }
}

/// Podman's `network.status`: one entry per network the container was attached to, read as upstream reads it.
public struct NetworkStatus: Equatable, Sendable {
  /// One network with its interfaces, sorted by interface name.
  public struct Network: Equatable, Sendable {
    /// The network's name (`podman`).
    public var name: String
    /// Its interfaces inside the container.
    public var interfaces: [NetworkInterface]

    /// A network with these interfaces.
    public init(name: String, interfaces: [NetworkInterface]) {
      self.name = name
      self.interfaces = interfaces
    }
  }

  /// The networks, sorted by name (upstream's order).
  public var networks: [Network] = []
  /// Every subnet's address without its prefix length, network by network, interface by interface.
  public var addresses: [String] = []
  /// Every interface's MAC address, in the same order.
  public var macAddresses: [String] = []

  /// No network.
  public init() {}

  /// What upstream shows as the container's `ip`: every address, joined by `", "`.
  public var ip: String { addresses.joined(separator: ", ") }
  /// What upstream shows as the container's `mac`: every MAC address, joined by `", "`.
  public var mac: String { macAddresses.joined(separator: ", ") }
  /// Every interface of every network, in order.
  public var interfaces: [NetworkInterface] { networks.flatMap(\.interfaces) }

  /// Reads `{net: {interfaces: {if: {subnets: [{ipnet, gateway}], mac_address}}}}`. As upstream's typed
  /// decoding does, a document of another shape (including text that is not JSON) gives no network at all;
  /// unknown keys are ignored and `null` is empty.
  public init(parsing bytes: [UInt8]) {
    guard let root = try? JSONValue(parsing: bytes), let parsed = Self.networks(of: root) else { return }
    networks = parsed
    for interface in interfaces {
      addresses += interface.subnetAddresses
      if !interface.mac.isEmpty { macAddresses.append(interface.mac) }
    }
  }

  private static func networks(of root: JSONValue) -> [Network]? {
    guard let networks = object(root) else { return nil }
    var result: [Network] = []
    for (name, value) in networks.sorted(by: { $0.key < $1.key }) {
      guard let network = object(value), let interfaces = object(network["interfaces"] ?? .null) else { return nil }
      var parsed: [NetworkInterface] = []
      for (interface, fields) in interfaces.sorted(by: { $0.key < $1.key }) {
        guard let entry = NetworkInterface(network: name, interface: interface, json: fields) else { return nil }
        parsed.append(entry)
      }
      result.append(Network(name: name, interfaces: parsed))
    }
    return result
  }

  /// An object's members; `null` is an empty object, as Go decodes it into a map.
  static func object(_ value: JSONValue) -> [String: JSONValue]? {
    if case .null = value { return [:] }
    return value.objectValue
  }

  /// A string member: `""` when absent or `null`, `nil` when it is not a string.
  static func string(_ value: JSONValue?) -> String? {
    switch value {
    case nil, .null?: return ""
    case .string(let text)?: return text
    default: return nil
    }
  }
}

/// One interface of Podman's `network.status`.
public struct NetworkInterface: Equatable, Sendable {
  /// The network's name (`podman`).
  public var network: String
  /// The interface's name inside the container (`eth0`).
  public var interface: String
  /// The last subnet's address with prefix (`10.88.0.6/16`), as upstream shows it; empty without one.
  public var ip: String
  /// The MAC address.
  public var mac: String
  /// The last subnet's gateway, as upstream shows it; empty without one.
  public var gateway: String
  /// Every subnet's address without its prefix length.
  public var subnetAddresses: [String]

  /// An interface with these fields (one subnet unless `subnetAddresses` says otherwise).
  public init(
    network: String, interface: String, ip: String, mac: String, gateway: String, subnetAddresses: [String]? = nil
  ) {
    self.network = network
    self.interface = interface
    self.ip = ip
    self.mac = mac
    self.gateway = gateway
    self.subnetAddresses = subnetAddresses ?? (ip.isEmpty ? [] : [String(ip.prefix { $0 != "/" })])
  }

  /// `{subnets: [{ipnet, gateway}], mac_address}`; `nil` when it has another shape.
  init?(network: String, interface: String, json: JSONValue) {
    guard let fields = NetworkStatus.object(json), let mac = NetworkStatus.string(fields["mac_address"]) else {
      return nil
    }
    var ip = ""
    var gateway = ""
    var addresses: [String] = []
    let subnets: [JSONValue]
    switch fields["subnets"] {
    case nil, .null?: subnets = []
    case .array(let values)?: subnets = values
    default: return nil
    }
    for subnet in subnets {
      guard let subnet = NetworkStatus.object(subnet), let ipnet = NetworkStatus.string(subnet["ipnet"]),
        let subnetGateway = NetworkStatus.string(subnet["gateway"])
      else { return nil }
      if !ipnet.isEmpty {
        ip = ipnet
        let address = String(ipnet.prefix { $0 != "/" })
        if !address.isEmpty { addresses.append(address) }
      }
      if !subnetGateway.isEmpty { gateway = subnetGateway }
    }
    self.init(network: network, interface: interface, ip: ip, mac: mac, gateway: gateway, subnetAddresses: addresses)
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

  /// Decodes the source's `stats-dump`, which must be there: at the root, where Podman and CRI-O move it,
  /// else in the image directory, where `criu dump` writes it. `nil` when it holds no dump statistics.
  public init?(source: CheckpointSource) throws {
    let inImages = CheckpointLayout.imageDirectory + InspectReport.statsDump
    let member =
      !source.contains(InspectReport.statsDump) && source.contains(inImages) ? inImages : InspectReport.statsDump
    let image: ImageFile
    do {
      image = try ImageFile(decoding: source.bytes(of: member))
    } catch let error as CRIUImageError {
      throw CheckpointError.corruptImage(source: source.displayPath, member: member, error)
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
    var text = ByteCount.fixed(value, decimals: digits)
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
