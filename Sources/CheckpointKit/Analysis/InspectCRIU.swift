import CRIU

/// CRIU facts of a checkpoint, as `inspect --dump-log` shows them: the image format version and plugins from
/// `inventory.img`, and the end of CRIU's `dump.log`.
public struct CRIUSummary: Equatable, Sendable {
  /// The inventory image, in the image directory.
  static let inventoryImage = CRIUImage.inventory.name
  /// Where CRIU's dump log may be: the archive root or the image directory (Podman exports none).
  static let dumpLogNames = [
    CheckpointMember.dumpLog.name, CheckpointLayout.imageDirectory + CheckpointMember.dumpLog.name,
  ]
  /// How many lines of the end of `dump.log` are kept.
  public static let dumpLogLines = 20

  /// `inventory_entry.img_version` (2 for every CRIU since 1.x); `nil` without an inventory.
  public var imageVersion: UInt32?
  /// `inventory_entry.plugins_entry.plugins`: the plugins that took part in the dump, in CRIU's order.
  public var plugins: [String]
  /// `inventory_entry.lsmtype` as CRIU names it (`NO_LSM`, `SELINUX`, `APPARMOR`), when set.
  public var lsmType: String?
  /// `inventory_entry.dump_criu_run_id`, when set.
  public var dumpRunID: String?
  /// The last ``dumpLogLines`` lines of `dump.log`; `nil` when the checkpoint has no dump log.
  public var dumpLog: [String]?

  /// A summary with these fields.
  public init(
    imageVersion: UInt32?, plugins: [String], lsmType: String?, dumpRunID: String?, dumpLog: [String]?
  ) {
    self.imageVersion = imageVersion
    self.plugins = plugins
    self.lsmType = lsmType
    self.dumpRunID = dumpRunID
    self.dumpLog = dumpLog
  }

  /// Reads the source's `inventory.img` and `dump.log` (each may be absent).
  public init(source: CheckpointSource) throws {
    imageVersion = nil
    plugins = []
    lsmType = nil
    dumpRunID = nil
    if source.contains(source.imagePrefix + Self.inventoryImage),
      let inventory = try source.image(Self.inventoryImage).messages(InventoryEntry.self).first
    {
      imageVersion = inventory.imgVersion
      plugins = inventory.hasPluginsEntry ? inventory.pluginsEntry.plugins : []
      if inventory.hasLsmtype { lsmType = Self.lsmName(inventory.lsmtype) }
      if inventory.hasDumpCriuRunID, !inventory.dumpCriuRunID.isEmpty { dumpRunID = inventory.dumpCriuRunID }
    }
    dumpLog = try Self.dumpLogNames.first(where: source.contains).map {
      Self.lastLines(try source.bytes(of: $0), count: Self.dumpLogLines)
    }
  }

  /// CRIU's name for an LSM type.
  static func lsmName(_ type: Lsmtype) -> String {
    switch type {
    case .noLsm: return "NO_LSM"
    case .selinux: return "SELINUX"
    case .apparmor: return "APPARMOR"
    }
  }

  /// The last `count` lines of `bytes` (a final newline ends the last line, it does not start an empty one).
  static func lastLines(_ bytes: [UInt8], count: Int) -> [String] {
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    return lines.suffix(count).map { line in
      var text = String(decoding: line, as: UTF8.self)
      if text.hasSuffix("\r") { text.removeLast() }
      return text
    }
  }
}
