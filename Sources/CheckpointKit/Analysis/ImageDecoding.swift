import Archive
import CRIU
import Glibc
import OCI
import SystemSupport

/// `decode`: an image as crit-compatible JSON, or a listing of the images of a directory or archive.
public enum ImageDecoding {
  /// Raw images (no magic), recognised by their file names.
  public static func rawKind(of name: String) -> String? {
    let base = Path.base(of: name)
    if CheckpointLayout.isPages(base) { return "pages" }
    if base.hasPrefix("tmpfs-") && base.hasSuffix(".tar.gz.img") { return "tmpfs tarball" }
    for prefix in ["ifaddr", "route6", "route", "rule", "ip6tables", "iptables", "nftables"]
    where base.hasPrefix(prefix + "-") {
      return prefix
    }
    return nil
  }

  /// What `decode` gives: an image's JSON (or a raw image's kind and size, as JSON), or the images of a
  /// checkpoint, one row each (name, kind, entries, size) under a header row.
  public enum Output: Equatable, Sendable {
    case text(String)
    case listing([[String]])
  }

  /// Decodes `path`: an image file, `ARCHIVE:member`, or a directory or archive to list.
  public static func decode(_ path: String, pretty: Bool, registry: RegistryOptions = RegistryOptions()) throws
    -> Output
  {
    if PodCheckpoint.isPod(path) {
      // Every container's images, each name after its container's.
      let pod = try PodCheckpoint(path: path)
      var rows: [[String]] = []
      for container in pod.containers {
        guard case .listing(let listed) = try listing(pod.source(of: container, selection: listingSelection)) else {
          continue
        }
        if rows.isEmpty { rows.append(listed[0]) }
        rows += listed.dropFirst().map { [container.name + "/" + $0[0]] + $0.dropFirst() }
      }
      return .listing(rows)
    }
    if let info = try Path.status(path) {
      if Path.isDirectory(info) {
        return try listing(CheckpointSource(path: path, selection: listingSelection, registry: registry))
      }
      let file = try FileDescriptor(path: path, flags: O_RDONLY)
      let limit = Int(CheckpointLayout.memberLimit)
      guard Path.isRegularFile(info) else {
        // A pipe (`/dev/stdin`, `<(…)`) can be read only once: it must hold an image.
        let bytes = try file.readAll(limit: limit)
        guard looksLikeImage(bytes.prefix(8), name: path) else { throw CheckpointError.notAnImage(path) }
        return .text(try decodeImage(bytes, name: path, pretty: pretty))
      }
      var prefix = [UInt8](repeating: 0, count: 8)
      let n = try prefix.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
      if looksLikeImage(prefix[0..<n], name: path) {
        return .text(try decodeImage(file.readAll(limit: limit), name: path, pretty: pretty))
      }
      if let raw = rawKind(of: path) { return .text(rawReport(kind: raw, size: Int64(info.st_size))) }
      return try listing(CheckpointSource(path: path, selection: listingSelection, registry: registry))
    }
    // ARCHIVE:member (the member may itself contain no colon; the archive path may), the archive an existing
    // path first. An image reference (`oci-archive:X[:TAG]`, `oci:DIR[:TAG]`, `docker://…`) is listed whole, or
    // takes a `:member` whose name ends in `.img` (so a tag ending in `.img` is read as a member name).
    if let colon = path.lastIndex(of: ":") {
      let archive = String(path[..<colon])
      let member = String(path[path.index(after: colon)...])
      let isMember =
        try !member.isEmpty
        && (Path.status(archive) != nil
          || (member.hasSuffix(CRIUImage.suffix) && (try? ImageReference(transport: archive)) != nil))
      if isMember {
        // A directory, an archive file, an archive streamed through a pipe, or an image; in a pod checkpoint,
        // CONTAINER/member.
        var wanted = ArchiveEntry.normalize(member) ?? member
        var opened: CheckpointSource?
        if PodCheckpoint.isPod(archive) {
          let pod = try PodCheckpoint(path: archive)
          let container = try pod.container(named: String(wanted.prefix { $0 != "/" }))
          wanted = String(wanted.drop { $0 != "/" }.dropFirst())
          opened = try pod.source(of: container, selection: .init(memory: { [wanted] in $0 == wanted }))
        }
        let source =
          try opened
          ?? CheckpointSource(path: archive, selection: .init(memory: { [wanted] in $0 == wanted }), registry: registry)
        if let raw = rawKind(of: wanted) { return .text(rawReport(kind: raw, size: try source.size(of: wanted))) }
        return .text(try decodeImage(source.bytes(of: wanted), name: "\(archive):\(wanted)", pretty: pretty))
      }
      if try ImageReference(transport: path) != nil {
        return try listing(CheckpointSource(path: path, selection: listingSelection, registry: registry))
      }
    }
    throw CheckpointError.missing(path)
  }

  /// Image-like files that are not archives: a known magic, the common or service prefix, or an `.img` name
  /// that is not raw.
  static func looksLikeImage(_ prefix: ArraySlice<UInt8>, name: String) -> Bool {
    if ImageFile.kind(ofPrefix: prefix) != nil { return true }
    var cursor = ByteCursor(Array(prefix))
    if let first = try? cursor.readUInt32(), first == ImageMagic.common || first == ImageMagic.service { return true }
    return name.hasSuffix(CRIUImage.suffix) && rawKind(of: name) == nil
  }

  static func decodeImage(_ bytes: [UInt8], name: String, pretty: Bool) throws -> String {
    do {
      return try ImageJSON.decode(ImageFile(decoding: bytes), pretty: pretty)
    } catch let error as CRIUImageError {
      throw ImageDecodingError(name: name, error: error)
    }
  }

  static func rawReport(kind: String, size: Int64) -> String {
    JSONValue.object(["raw": .string(kind), "size": .integer(size)]).formatted(keyOrder: ["raw", "size"]) + "\n"
  }

  /// Images kept in memory while listing a compressed archive: every protobuf image.
  static let listingSelection = CheckpointSource.Selection(memory: { name in
    name.hasSuffix(CRIUImage.suffix) && rawKind(of: name) == nil
      || Path.base(of: name) == CheckpointMember.statsDump.name
  })

  /// One line per image: name, kind, entry count and size.
  static func listing(_ source: CheckpointSource) throws -> Output {
    var rows: [[String]] = [["IMAGE", "KIND", "ENTRIES", "SIZE"]]
    for name in source.memberNames where name.hasPrefix(source.imagePrefix) {
      let image = String(name.dropFirst(source.imagePrefix.count))
      guard image.hasSuffix(CRIUImage.suffix) || image == CheckpointMember.statsDump.name else { continue }
      let size = try source.size(of: name)
      if let raw = rawKind(of: image) {
        rows.append([image, "raw (\(raw))", "-", String(size)])
        continue
      }
      do {
        let (kind, entries) = try ImageFile.scan(source.bytes(of: name))
        rows.append([image, kind.name, String(entries), String(size)])
      } catch let error as CRIUImageError {
        rows.append([image, "invalid: \(error)", "-", String(size)])
      }
    }
    return .listing(rows)
  }
}

/// A CRIU image that failed to decode, named after the user's file.
public struct ImageDecodingError: Error, CustomStringConvertible {
  public var name: String
  public var error: CRIUImageError
  public var description: String { singleLine("\(name): \(error)") }
}
