import Archive
import CRIU
import FoundationEssentials
import Glibc
import OCI
import SystemSupport

/// Builds a checkpoint image (`build CHECKPOINT IMAGE`) in one pass over the checkpoint: its files become the only
/// layer, at `/`, as `buildah add` of the archive would put them; `config.dump`, `spec.dump` and one CRIU core
/// image are kept on the way for the annotations and the platform.
public enum OCIImageBuilder {
  /// Builds the image of `checkpoint` and stores it at `destination`; building the layer and pushing it report
  /// to `progress`.
  public static func build(
    checkpoint: String, to destination: ImageReference, compression: ArchiveFilter,
    annotations: [(String, String)], registry: RegistryOptions = RegistryOptions(), progress: ProgressSink = .none
  ) throws -> SingleLayerImage {
    try ImageStore.store(to: destination, registry: registry, progress: progress) { layerFile in
      try OCIImageBuilder.build(
        checkpoint: checkpoint, compression: compression, annotations: annotations, layerFile: layerFile,
        progress: progress)
    }
  }

  /// Layer compressions `build` accepts.
  public static let compressions: [ArchiveFilter] = [.gzip, .zstd, .none]

  /// Members kept in memory while the layer streams.
  static func isKept(_ name: String) -> Bool {
    name == ContainerConfig.fileName || name == SpecDump.fileName
      || (name.hasPrefix(CheckpointLayout.imageDirectory) && name.hasSuffix(CRIUImage.suffix)
        && CRIUImage.Kind(of: String(name.dropFirst(CheckpointLayout.imageDirectory.count))) == .core)
      || name == CheckpointLayout.imageDirectory + CRIUImage.inventory.name
  }

  /// Builds the image of `checkpoint` (an archive of any compression or a checkpoint directory), writing the
  /// layer to `layerFile`. `annotations` (from `--annotation`) add to and override the derived ones. Reading
  /// the input ("Building") reports to `progress`.
  public static func build(
    checkpoint: String, compression: ArchiveFilter, annotations extra: [(String, String)], layerFile: FileDescriptor,
    progress sink: ProgressSink = .none
  ) throws -> SingleLayerImage {
    guard compressions.contains(compression) else { throw OCIImageError.badCompression(compression.name) }
    guard let info = try Path.status(checkpoint) else { throw CheckpointError.missing(checkpoint) }
    let encoder = try TarStreamEncoder(
      compression: compression, fd: layerFile.rawValue, displayPath: layerFile.displayPath)
    // An archive file's progress is the share of it read; a directory's size is not known in advance.
    let progress = sink.start("Building", total: Path.isRegularFile(info) ? Int64(info.st_size) : nil)
    var kept: [String: [UInt8]] = [:]
    var keptTimes: [String: Int64] = [:]
    var hasImageDirectory = false
    var sawMember = false
    if Path.isDirectory(info) {
      try addDirectory(checkpoint, to: encoder, kept: &kept, times: &keptTimes, progress: progress)
      hasImageDirectory =
        (try Path.status(Path.join(checkpoint, String(CheckpointLayout.imageDirectory.dropLast())))).map(
          Path.isDirectory) ?? false
      sawMember = true
    } else {
      let reader = try openArchive(checkpoint, info, progress: progress)
      while let entry = try reader.next() {
        guard let name = try SafeExtraction.checkedName(of: entry, in: checkpoint) else { continue }
        sawMember = true
        if name + "/" == CheckpointLayout.imageDirectory || name.hasPrefix(CheckpointLayout.imageDirectory) {
          hasImageDirectory = true
        }
        switch entry.kind {
        case .directory:
          try encoder.writeHeader(
            ArchiveEntry(
              path: name, kind: .directory, permissions: entry.permissions, modificationTime: entry.modificationTime))
        case .regular:
          try encoder.writeHeader(
            ArchiveEntry(
              path: name, kind: .regular, size: entry.size, permissions: entry.permissions,
              modificationTime: entry.modificationTime))
          let keep = isKept(name) && entry.size <= CheckpointLayout.memberLimit
          var bytes: [UInt8] = []
          var written: Int64 = 0
          try reader.forEachBlock { block in
            guard written + Int64(block.count) <= entry.size else {
              throw SystemError("member changed size while being read:", path: checkpoint + ":" + name, code: EIO)
            }
            try encoder.writeData(block)
            written += Int64(block.count)
            if keep { bytes.append(contentsOf: block) }
          }
          guard written == entry.size else {
            throw ArchiveError.libarchive(
              archive: checkpoint, operation: "reading", code: -30, message: "member \(name) is truncated")
          }
          if keep {
            kept[name] = bytes
            keptTimes[name] = entry.modificationTime
          }
        default:
          throw OCIImageError.unsupportedMember(source: checkpoint, member: name, kind: entry.kindName)
        }
      }
    }
    if !sawMember { throw CheckpointError.emptyArchive(checkpoint) }
    // Upstream's checks, in upstream's order.
    guard let configBytes = kept[ContainerConfig.fileName] else {
      throw CheckpointError.missingMember(source: checkpoint, member: ContainerConfig.fileName)
    }
    let config = try ContainerConfig(json: configBytes, source: checkpoint)
    guard let specBytes = kept[SpecDump.fileName] else {
      throw CheckpointError.missingMember(source: checkpoint, member: SpecDump.fileName)
    }
    let spec = try SpecDump(json: specBytes, source: checkpoint)
    guard hasImageDirectory else { throw ContainerCheckpointError.notAContainerCheckpoint(checkpoint) }
    let container = try ContainerCheckpoint(path: checkpoint, config: config, spec: spec)
    let layer = EncodedLayer(try encoder.finish(), compression: compression)
    progress.finish()

    let architecture = try Self.architecture(kept, source: checkpoint)
    let rawConfig = (try? JSONValue(parsing: configBytes)) ?? .null
    var annotations = CheckpointImageAnnotations.make(
      .init(checkpoint: container, rawConfig: rawConfig, architecture: architecture))
    for (key, value) in extra { annotations[key] = value }

    // The checkpoint's time: `checkpointedTime`, else when CRIU wrote its inventory, else the container's creation.
    var created: String?
    var createdSeconds: Int64 = 0
    if let time = config.checkpointed {
      created = time.text
      createdSeconds = time.unixSeconds
    } else if let seconds = keptTimes[CheckpointLayout.imageDirectory + CRIUImage.inventory.name] {
      // A time beyond the year 9999 (a hostile archive) is left out, and the members get time 0.
      created = rfc3339(seconds)
      createdSeconds = created == nil ? 0 : seconds
    } else if let time = config.created {
      created = time.text
      createdSeconds = time.unixSeconds
    }
    return SingleLayerImage(
      layer: layer, layerFile: layerFile, annotations: annotations,
      platform: Platform(architecture: architecture ?? Platform.host.architecture, os: "linux"), created: created,
      createdSeconds: createdSeconds)
  }

  /// The architecture the CRIU core images were dumped on (`nil` when the checkpoint has none).
  static func architecture(_ kept: [String: [UInt8]], source: String) throws -> String? {
    guard
      let name = kept.keys.filter({
        $0.hasPrefix(CheckpointLayout.imageDirectory)
          && CRIUImage.Kind(of: String($0.dropFirst(CheckpointLayout.imageDirectory.count))) == .core
      }).min(),
      let bytes = kept[name]
    else { return nil }
    do {
      guard let core = try ImageFile(decoding: bytes).messages(CoreEntry.self).first else { return nil }
      return CheckpointImageAnnotations.goArchitecture(core.mtype)
    } catch let error as CRIUImageError {
      throw CheckpointError.corruptImage(source: source, member: name, error)
    }
  }

  /// RFC 3339 in UTC, whole seconds; `nil` outside the years 1 to 9999 (a time from a hostile archive).
  static func rfc3339(_ seconds: Int64) -> String? {
    guard (-62_135_596_800...253_402_300_799).contains(seconds) else { return nil }
    var time = time_t(seconds)
    var parts = tm()
    guard gmtime_r(&time, &parts) != nil else { return nil }
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let year = Int(parts.tm_year) + 1900
    let padded = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
    return
      "\(padded)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
  }

  /// Opens an input archive; a regular file is read at offsets that advance `progress`.
  private static func openArchive(_ path: String, _ info: stat, progress: any ProgressReporter) throws -> ArchiveReader
  {
    guard Path.isRegularFile(info) else { return try ArchiveReader(path: path) }
    let file = try FileDescriptor(path: path, flags: O_RDONLY)
    let status = try file.status()
    return try ArchiveReader(
      bytes: ProgressReportingBytes(file, progress: progress), size: Int64(status.st_size), displayPath: path)
  }

  /// Adds a checkpoint directory's files and directories, sorted by name at every level (the same directory
  /// always gives the same layer). Links and special files are refused.
  private static func addDirectory(
    _ root: String, to encoder: TarStreamEncoder, kept: inout [String: [UInt8]], times: inout [String: Int64],
    progress: any ProgressReporter
  ) throws {
    func walk(_ relative: String, depth: Int) throws {
      guard depth < 64 else {
        throw SystemError("directory nesting too deep at", path: Path.join(root, relative), code: ELOOP)
      }
      let directory = relative.isEmpty ? root : Path.join(root, relative)
      for name in try Path.entries(of: directory).sorted() {
        let child = relative.isEmpty ? name : relative + "/" + name
        let path = Path.join(root, child)
        guard let info = try Path.linkStatus(path) else { continue }
        let mtime = Int64(info.st_mtim.tv_sec)
        let permissions = UInt32(info.st_mode) & 0o7777
        if Path.isDirectory(info) {
          try encoder.writeHeader(
            ArchiveEntry(path: child, kind: .directory, permissions: permissions, modificationTime: mtime))
          try walk(child, depth: depth + 1)
        } else if Path.isRegularFile(info) {
          let file = try FileDescriptor(path: path, flags: O_RDONLY | O_NOFOLLOW, displayPath: path)
          let size = Int64(try file.status().st_size)
          let keep = isKept(child) && size <= CheckpointLayout.memberLimit
          var bytes: [UInt8] = []
          let member = ArchiveEntry(
            path: child, kind: .regular, size: size, permissions: permissions, modificationTime: mtime)
          try encoder.add(member, from: file) { block in
            progress.advance(by: block.count)
            if keep { bytes.append(contentsOf: block) }
          }
          if keep {
            kept[child] = bytes
            times[child] = mtime
          }
        } else {
          let kind = (info.st_mode & S_IFMT) == S_IFLNK ? "symbolic link" : "special file"
          throw OCIImageError.unsupportedMember(source: root, member: child, kind: kind)
        }
      }
    }
    try walk("", depth: 0)
  }
}
