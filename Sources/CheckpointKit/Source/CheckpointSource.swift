import Archive
import CRIU
import Glibc
import OCI
import SystemSupport

/// A checkpoint opened once: an unpacked CRIU image directory, an unpacked container checkpoint directory, or
/// a container checkpoint archive of any compression.
///
/// Members of directories and uncompressed archives are read in place (an archive member with `pread` at its
/// data offset, never copied). A compressed archive is read in one streaming pass that keeps in memory only
/// the members the ``Selection`` asks for; members wanted for random access (pages) spill to a private
/// temporary file that is unlinked as soon as it is created, so it disappears on every exit path, unless the
/// caller of a ``Loader`` takes them as they are decompressed (``Loader/take(with:)``).
public final class CheckpointSource {
  /// Which members a command needs, decided before a compressed archive is streamed.
  public struct Selection: Sendable {
    /// Members read whole into memory (metadata, images).
    public var memory: @Sendable (String) -> Bool
    /// Members read at random offsets (pages).
    public var randomAccess: @Sendable (String) -> Bool

    /// For a member wanted at random offsets in a compressed archive: the byte ranges that will be read,
    /// decided when the stream reaches the member from its name, its size and the members already kept in memory
    /// (by name). `nil` keeps the whole member (spilled to the private temporary file).
    public var neededRanges: NeededRanges?
    /// See ``neededRanges``.
    public typealias NeededRanges = @Sendable (String, Int64, [String: [UInt8]]) throws -> [Range<Int64>]?

    /// A selection from two predicates over normalised member names.
    public init(
      memory: @escaping @Sendable (String) -> Bool, randomAccess: @escaping @Sendable (String) -> Bool = { _ in false },
      neededRanges: NeededRanges? = nil
    ) {
      self.memory = memory
      self.randomAccess = randomAccess
      self.neededRanges = neededRanges
    }

    /// Every member in memory except pages, which are read at random offsets.
    public static let everything = Selection(
      memory: { !CheckpointLayout.isPages($0) }, randomAccess: CheckpointLayout.isPages)
    /// Nothing but the member list and sizes.
    public static let listing = Selection(memory: { _ in false })
  }

  /// What the source is.
  public enum Kind: Equatable, Sendable {
    case imageDirectory, containerDirectory
    case archive(ArchiveFilter)
  }

  enum Storage {
    case file(String)
    case inPlace(offset: Int64, size: Int64)
    case memory([UInt8])
    case spilled(offset: Int64, size: Int64)
    /// Only some byte ranges of the member were kept.
    case sparse(SparseBytes)
    /// A ``MemberReceiver`` took the member's bytes and serves reads of them (or they are a blob of an image, read
    /// where it is).
    case received(RandomAccessBytes, size: Int64)
    /// The member a ``Loader`` stopped at (``Loader/nextStreamedMember()``): its size is known, its bytes are not.
    case pending(size: Int64)
    case skipped(size: Int64)
  }

  /// The path as the user gave it.
  public let displayPath: String
  /// What the source is.
  public let kind: Kind
  /// Where the CRIU images are: `checkpoint/` in container checkpoints, empty in a bare image directory.
  public let imagePrefix: String
  var members: [String: Storage]
  /// Normalised names of the directories it holds (`checkpoint`), explicit entries or implied by members.
  public let directories: Set<String>
  /// JSON metadata names (``CheckpointLayout/jsonMetadata``) held by something other than a regular file.
  let irregularMetadata: Set<String>
  /// Each regular member's modification time, in seconds since the epoch (as the archive or file system says).
  public let modificationTimes: [String: Int64]
  /// What `config.dump` would say, for a checkpoint that has none and says it otherwise (a containerd checkpoint
  /// image: its index and spec).
  public let derivedConfig: ContainerConfig?
  private var decoded: [String: ImageFile] = [:]
  private let archiveFile: FileDescriptor?
  private let spillFile: FileDescriptor?

  /// The directory, when the source is one.
  var directoryPath: String? {
    switch kind {
    case .imageDirectory, .containerDirectory: return displayPath
    case .archive: return nil
    }
  }

  /// The same members seen with another image directory (the pre-dump beside `checkpoint/`).
  convenience init(sharing other: CheckpointSource, imagePrefix: String) {
    self.init(
      Contents(
        displayPath: other.displayPath, kind: other.kind, imagePrefix: imagePrefix, members: other.members,
        directories: other.directories, irregularMetadata: other.irregularMetadata,
        modificationTimes: other.modificationTimes, derivedConfig: other.derivedConfig, archiveFile: other.archiveFile,
        spillFile: other.spillFile))
  }

  /// What a source is made of: what a ``Loader`` found, or another source's members.
  fileprivate struct Contents {
    var displayPath: String
    var kind: Kind
    var imagePrefix: String
    var members: [String: Storage]
    var directories: Set<String>
    var irregularMetadata: Set<String> = []
    var modificationTimes: [String: Int64] = [:]
    var derivedConfig: ContainerConfig?
    var archiveFile: FileDescriptor?
    var spillFile: FileDescriptor?
  }

  fileprivate init(_ contents: Contents) {
    displayPath = contents.displayPath
    kind = contents.kind
    imagePrefix = contents.imagePrefix
    members = contents.members
    directories = contents.directories
    irregularMetadata = contents.irregularMetadata
    modificationTimes = contents.modificationTimes
    derivedConfig = contents.derivedConfig
    archiveFile = contents.archiveFile
    spillFile = contents.spillFile
  }

  /// True when the checkpoint has a `checkpoint/` image directory, even an empty one (upstream accepts an archive
  /// whose `checkpoint/` holds nothing and reads its metadata alone).
  public var hasImageDirectory: Bool {
    directories.contains(String(CheckpointLayout.imageDirectory.dropLast()))
  }

  /// True for a container checkpoint whose `checkpoint/` directory holds no file.
  public var holdsNoImages: Bool {
    imagePrefix == CheckpointLayout.imageDirectory
      && !members.keys.contains { $0.hasPrefix(CheckpointLayout.imageDirectory) }
  }

  /// Normalised names of the regular-file members, sorted.
  public var memberNames: [String] { members.keys.sorted() }

  /// Opens `path` (a directory or an archive) and indexes its members: a ``Loader`` whose members nobody takes.
  /// A `docker://` checkpoint's registry is reached as `registry` says.
  public convenience init(
    path: String, selection: Selection = .everything, registry: RegistryOptions = RegistryOptions()
  ) throws {
    self.init(try Loader(path: path, selection: selection, registry: registry).readAll())
  }

  /// True when the member exists (as a regular file, or as a metadata name held by another type of file, which
  /// every read refuses).
  public func contains(_ name: String) -> Bool { members[name] != nil || irregularMetadata.contains(name) }

  /// The error for a metadata name held by something other than a regular file, or for a missing member.
  private func absent(_ name: String) -> CheckpointError {
    irregularMetadata.contains(name)
      ? .notRegularFile(source: displayPath, member: name) : .missingMember(source: displayPath, member: name)
  }

  /// A member's size in bytes.
  public func size(of name: String) throws -> Int64 {
    switch members[name] {
    case .file(let path)?: return Int64(try Path.status(path)?.st_size ?? 0)
    case .inPlace(_, let size)?, .spilled(_, let size)?, .skipped(let size)?, .received(_, let size)?,
      .pending(let size)?:
      return size
    case .sparse(let bytes)?: return bytes.size
    case .memory(let bytes)?: return Int64(bytes.count)
    case nil: throw absent(name)
    }
  }

  /// A member's bytes (small members: metadata and images).
  public func bytes(of name: String, limit: Int64 = CheckpointLayout.memberLimit) throws -> [UInt8] {
    guard let storage = members[name] else { throw absent(name) }
    switch storage {
    case .file(let path):
      return try openRegular(path, member: name).readAll(limit: Int(limit))
    case .memory(let bytes):
      return bytes
    case .inPlace, .spilled, .sparse, .received:
      let size = try self.size(of: name)
      guard size <= limit else {
        throw ArchiveError.memberTooLarge(archive: displayPath, member: name, limit: limit)
      }
      var result = [UInt8](repeating: 0, count: Int(size))
      let access = try randomAccess(name)
      _ = try result.withUnsafeMutableBytes { try access.read(into: $0, at: 0) }
      return result
    case .skipped, .pending:
      throw CheckpointError.notLoaded(source: displayPath, member: name)
    }
  }

  /// A member for reads at any offset, without copying it.
  public func randomAccess(_ name: String) throws -> RandomAccessBytes {
    guard let storage = members[name] else { throw CheckpointError.missingMember(source: displayPath, member: name) }
    switch storage {
    case .file(let path):
      return try openRegular(path, member: name)
    case .inPlace(let offset, let size):
      guard let archiveFile else { throw CheckpointError.notLoaded(source: displayPath, member: name) }
      return FileSlice(file: archiveFile, offset: offset, size: size)
    case .spilled(let offset, let size):
      guard let spillFile else { throw CheckpointError.notLoaded(source: displayPath, member: name) }
      return FileSlice(file: spillFile, offset: offset, size: size)
    case .memory(let bytes):
      return InMemoryBytes(bytes)
    case .sparse(let bytes):
      return bytes
    case .received(let bytes, _):
      return bytes
    case .pending:
      return PendingBytes(source: displayPath, member: name)
    case .skipped:
      throw CheckpointError.notLoaded(source: displayPath, member: name)
    }
  }

  /// Opens a directory's member, checked again: the directory may change after it was listed. O_NOFOLLOW refuses
  /// a link (ELOOP), O_NONBLOCK keeps a FIFO from blocking the open.
  private func openRegular(_ path: String, member name: String) throws -> FileDescriptor {
    let refused = CheckpointError.notRegularFile(source: displayPath, member: name)
    let file: FileDescriptor
    do {
      file = try FileDescriptor(
        path: path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK, displayPath: Path.join(displayPath, name))
    } catch let error as SystemError where error.code == ELOOP {
      throw refused
    }
    guard Path.isRegularFile(try file.status()) else { throw refused }
    return file
  }

  /// True when `receiver` took the last copy of the member `name` (an archive may hold a member twice).
  package func isReceived(_ name: String, by receiver: MemberReceiver) -> Bool {
    guard case .received(let bytes, _)? = members[name] else { return false }
    return (bytes as AnyObject) === receiver
  }

  /// Decodes the CRIU image `name` (relative to the image directory, e.g. `pstree.img`).
  /// Each image is decoded once: commands ask for `files.img`, `mm-<pid>.img` and the like from several places.
  public func image(_ name: String) throws -> ImageFile {
    let member = imagePrefix + name
    if let image = decoded[member] { return image }
    do {
      let image = try ImageFile(decoding: try bytes(of: member))
      decoded[member] = image
      return image
    } catch let error as CRIUImageError {
      throw CheckpointError.corruptImage(source: displayPath, member: member, error)
    }
  }

  /// The members of the checkpoint directory `path` (a container checkpoint or a bare image directory).
  private static func directoryContents(_ path: String) throws -> Contents {
    var found: [String: Storage] = [:]
    var subdirectories: Set<String> = []
    var times: [String: Int64] = [:]
    var irregular: Set<String> = []
    for (name, info) in try listDirectory(path) {
      if CheckpointLayout.jsonMetadata.contains(name) && !Path.isRegularFile(info) {
        irregular.insert(name)
      } else if Path.isDirectory(info) {
        subdirectories.insert(name)
      } else if Path.isRegularFile(info) {
        found[name] = .file(Path.join(path, name))
        times[name] = Int64(info.st_mtim.tv_sec)
      }
    }
    let kind: Kind
    let imagePrefix: String
    if subdirectories.contains(String(CheckpointLayout.imageDirectory.dropLast()))
      || found[ContainerConfig.fileName] != nil || irregular.contains(ContainerConfig.fileName)
    {
      kind = .containerDirectory
      imagePrefix = CheckpointLayout.imageDirectory
    } else if found[CRIUImage.inventory.name] != nil || found[CRIUImage.pstree.name] != nil {
      kind = .imageDirectory
      imagePrefix = ""
    } else {
      throw CheckpointError.notACheckpoint(path)
    }
    return Contents(
      displayPath: path, kind: kind, imagePrefix: imagePrefix, members: found, directories: subdirectories,
      irregularMetadata: irregular, modificationTimes: times)
  }

  /// Regular files and directories below `root` (three levels), and metadata names of any type at its top,
  /// relative names with their `lstat`.
  private static func listDirectory(_ root: String) throws -> [(String, stat)] {
    var result: [(String, stat)] = []
    func walk(_ relative: String, depth: Int) throws {
      for name in try Path.entries(of: relative.isEmpty ? root : Path.join(root, relative)) {
        let child = relative.isEmpty ? name : relative + "/" + name
        guard let info = try Path.linkStatus(Path.join(root, child)) else { continue }
        if Path.isDirectory(info) {
          result.append((child, info))
          if depth < 2 { try walk(child, depth: depth + 1) }
        } else if Path.isRegularFile(info) || (relative.isEmpty && CheckpointLayout.jsonMetadata.contains(name)) {
          // Metadata of another type is listed so that reading it can be refused by name.
          result.append((child, info))
        }
      }
    }
    try walk("", depth: 0)
    return result
  }
}

extension CheckpointSource {
  /// Reads a checkpoint member by member, so that a caller can take the bytes of members wanted at random offsets
  /// as a compressed archive is decompressed, instead of the private temporary file (`coredump` writes pages
  /// straight into a core).
  ///
  /// ``nextStreamedMember()`` reads on to the next such member: in a compressed archive (or a streamed image
  /// layer), one the ``Selection`` wants for random access and does not narrow to ranges. ``sourceSoFar`` is the
  /// source as read up to it, ``take(with:)`` hands its bytes to a ``MemberReceiver``; a member not taken is
  /// spilled to the private temporary file when the loader reads on. ``finish()`` reads the rest and gives the
  /// source. A directory or an uncompressed archive has no such member.
  package final class Loader {
    private let path: String
    private let selection: Selection
    /// The archive the checkpoint is in when it is inside another file (an image's layer, a containerd checkpoint
    /// image's CRIU images, a pod archive's member), else `nil`.
    private let image: Enclosure?
    /// A containerd checkpoint image, else `nil`.
    private let containerd: ContainerdImage?
    /// The archive, `nil` for a directory.
    private let reader: ArchiveReader?
    /// A directory's members, all known when the loader is made.
    private let listed: Contents?
    private var found: [String: Storage] = [:]
    private var directoryNames: Set<String> = []
    private var irregular: Set<String> = []
    private var times: [String: Int64] = [:]
    /// Where the members wanted at random offsets go when nobody takes them and they do not fit in memory.
    private let spill = MemberSpill(stem: "checkpointctl-pages")
    /// Bytes of such members kept in memory instead, in all: small pages files (shared memory, small
    /// processes) never touch `$TMPDIR`, and peak memory stays bounded.
    static let memoryBudget: Int64 = 16 << 20
    private var memoryLeft = Loader.memoryBudget
    /// The member last appended to the spill, named when the temporary file cannot take it.
    private var lastSpilled: (name: String, size: Int64)?
    private var compression = ArchiveFilter.none
    /// The member ``nextStreamedMember()`` stopped at, none of its bytes read yet.
    private var current: String?
    /// True once the archive's last member is read.
    private var isAtEnd = false

    /// Opens `path` (a directory, read whole at once, or an archive, read as the loader is asked to). With
    /// `hashingImage`, a checkpoint image's layer is read once in order and checked against its digest at the end
    /// (``finish()`` throws when it differs), its members streamed as a compressed archive's are.
    package init(
      path: String, selection: Selection = .everything, registry: RegistryOptions = RegistryOptions(),
      hashingImage: Bool = false
    ) throws {
      self.path = path
      self.selection = selection
      let opened: (layer: ImageLayer, containerd: ContainerdImage?)?
      var enclosed: Enclosure?
      switch try Path.status(path) == nil ? PodArchive.enclosure(path) : nil {
      case .archive(let enclosure)?: (opened, enclosed) = (nil, enclosure)
      case .image(let blobs)?:
        opened = try CheckpointSource.openImage(blobs, selection: selection, hashing: hashingImage)
      case nil:
        opened = try CheckpointSource.openImage(path, selection: selection, registry: registry, hashing: hashingImage)
      }
      image = enclosed ?? opened.map { Enclosure(layer: $0.layer) }
      containerd = opened?.containerd
      guard let info = try image?.status ?? Path.status(path) else {
        throw CheckpointError.missing(path)
      }
      if Path.isDirectory(info) {
        reader = nil
        listed = try CheckpointSource.directoryContents(path)
      } else {
        reader = try image?.reader ?? ArchiveReader(path: path)
        listed = nil
      }
      found = containerd?.members ?? [:]
    }

    /// Reads on to the next member whose bytes a caller may take (see ``take(with:)``); `nil` at the end.
    package func nextStreamedMember() throws -> (name: String, size: Int64)? {
      try read(stoppingAtStreamed: true)
    }

    /// The source as read so far: every member before the one ``nextStreamedMember()`` returned is readable (each
    /// spilled byte is in the file first; a later spill continues at its end), that member is present with its
    /// size but no bytes yet. After a failure (a truncated archive), the members read before it.
    package var sourceSoFar: CheckpointSource {
      get throws {
        if let listed { return CheckpointSource(listed) }
        try buffering { try spill.flush() }
        let imageDirectory = String(CheckpointLayout.imageDirectory.dropLast())
        let prefix =
          directoryNames.contains(imageDirectory)
            || found.keys.contains { $0.hasPrefix(CheckpointLayout.imageDirectory) }
          ? CheckpointLayout.imageDirectory : ""
        return CheckpointSource(
          Contents(
            displayPath: path, kind: .archive(reader?.compression ?? .none), imagePrefix: prefix, members: found,
            directories: directoryNames, irregularMetadata: irregular, modificationTimes: times,
            derivedConfig: containerd?.config,
            archiveFile: compression == .none ? (image.map { $0.file } ?? reader?.fileReadableAtOffsets) : nil,
            spillFile: spill.file))
      }
    }

    /// Hands the bytes of the member ``nextStreamedMember()`` returned to `receiver`, which serves reads of them
    /// from then on.
    package func take(with receiver: MemberReceiver) throws {
      guard let name = current, let reader else {
        preconditionFailure("take(with:) without a member from nextStreamedMember()")
      }
      current = nil
      let (bytes, size) = try receiver.receive(from: reader)
      found[name] = .received(bytes, size: size)
    }

    /// Reads the rest of the checkpoint (a member not taken is spilled) and gives the source.
    package func finish() throws -> CheckpointSource {
      CheckpointSource(try readAll())
    }

    /// What ``finish()`` gives the source.
    fileprivate func readAll() throws -> Contents {
      if let listed { return listed }
      guard let reader else { preconditionFailure("a loader without a directory's members has an archive") }
      _ = try read(stoppingAtStreamed: false)
      // Every spilled byte is in the file before anything reads it back.
      try buffering { try spill.flush() }
      // A registry's layer is checked against its digest once the archive is read.
      try image?.finish()
      // Members imply their directories: upstream wants an explicit `checkpoint/` entry, this accepts both.
      for name in found.keys {
        var parent = Path.directory(of: name)
        while parent != "." && !parent.isEmpty && directoryNames.insert(parent).inserted {
          parent = Path.directory(of: parent)
        }
      }
      let contents = Contents(
        displayPath: path, kind: .archive(compression),
        imagePrefix: directoryNames.contains(String(CheckpointLayout.imageDirectory.dropLast()))
          ? CheckpointLayout.imageDirectory : "",
        members: found, directories: directoryNames, irregularMetadata: irregular, modificationTimes: times,
        derivedConfig: containerd?.config,
        archiveFile: compression == .none ? (image.map { $0.file } ?? reader.fileReadableAtOffsets) : nil,
        spillFile: spill.file)
      if found.isEmpty && directoryNames.isEmpty && irregular.isEmpty {
        throw CheckpointError.emptyArchive(path)
      }
      return contents
    }

    /// Reads members: to the end, or with `stoppingAtStreamed` to the next one a caller may take, returned with
    /// its bytes unread. A member left untaken before is spilled first.
    private func read(stoppingAtStreamed: Bool) throws -> (name: String, size: Int64)? {
      guard let reader, !isAtEnd else { return nil }
      if let name = current {
        current = nil
        guard case .pending(let size)? = found[name] else { preconditionFailure("the member stopped at is pending") }
        try keepMember(name, size: size)
      }
      // A containerd image's CRIU images tar holds the image directory's members under their own names.
      let prefix = containerd == nil ? "" : CheckpointLayout.imageDirectory
      while var entry = try reader.next() {
        compression = reader.compression ?? .none
        if let below = image?.prefix {
          // A container directory inside a pod archive: its members, named as in the directory.
          guard let name = entry.normalizedPath, name.hasPrefix(below), name.count > below.count else { continue }
          entry.path = String(name.dropFirst(below.count))
        }
        if entry.kind != .regular, let name = entry.normalizedPath.map({ prefix + $0 }),
          CheckpointLayout.jsonMetadata.contains(name)
        {
          // Never followed nor read: a link could point anywhere, a directory or device has no JSON.
          irregular.insert(name)
          found[name] = nil
          continue
        }
        if entry.kind == .directory, let name = try SafeExtraction.checkedName(of: entry, in: path) {
          directoryNames.insert(prefix + name)
          continue
        }
        guard entry.kind == .regular, let checked = try SafeExtraction.checkedName(of: entry, in: path) else {
          continue
        }
        let name = prefix + checked
        irregular.remove(name)
        times[name] = entry.modificationTime
        if let offset = entry.dataOffset, image == nil || image?.file != nil {
          found[name] = .inPlace(offset: offset + (image?.baseOffset ?? 0), size: entry.size)
        } else if selection.randomAccess(name),
          let ranges = try selection.neededRanges?(
            name, entry.size, found.compactMapValues { if case .memory(let bytes) = $0 { bytes } else { nil } })
        {
          found[name] = .sparse(try SparseBytes(keeping: ranges, of: reader, size: entry.size))
        } else if selection.randomAccess(name) {
          guard stoppingAtStreamed else {
            try keepMember(name, size: entry.size)
            continue
          }
          found[name] = .pending(size: entry.size)
          current = name
          return (name, entry.size)
        } else if selection.memory(name) {
          found[name] = .memory(try reader.readAll(limit: CheckpointLayout.memberLimit, member: name))
        } else {
          found[name] = .skipped(size: entry.size)
        }
      }
      isAtEnd = true
      return nil
    }

    /// Keeps the current member (`size` bytes) for reads at any offset: in memory while the budget allows, else
    /// appended to the private temporary file.
    private func keepMember(_ name: String, size: Int64) throws {
      guard let reader else { return }
      if size >= 0 && size <= memoryLeft {
        let bytes = try reader.readAll(limit: size, member: name)
        memoryLeft -= Int64(bytes.count)
        found[name] = .memory(bytes)
        return
      }
      lastSpilled = (name, size)
      let (_, offset, stored) = try buffering { try spill.append(from: reader) }
      found[name] = .spilled(offset: offset, size: stored)
    }

    /// Runs `body`, which writes to the private temporary file; when the file cannot be made or written, the
    /// error names the member, its size, why it is buffered and the directory (`$TMPDIR`).
    private func buffering<T>(_ body: () throws -> T) throws -> T {
      do {
        return try body()
      } catch let error as SystemError {
        let directory = ProcessEnvironment.temporaryDirectory
        guard let (name, size) = lastSpilled,
          error.path == directory || error.path == UnlinkedFile.displayPath(in: directory)
        else { throw error }
        throw CheckpointError.cannotBuffer(
          source: path, member: name, size: size, reason: reason(buffering: name), directory: directory, error: error)
      }
    }

    /// Why `name` is buffered: a pages file whose pagemap has not been read yet cannot be placed as it comes.
    private func reason(buffering name: String) -> String {
      guard case .pages(let pagesID)? = CRIUImage(name: Path.base(of: name)) else {
        return "to be read at any offset"
      }
      let prefix = Path.directory(of: name) == "." ? "" : Path.directory(of: name) + "/"
      let named = found.contains { member, storage in
        guard let image = CRIUImage(name: Path.base(of: member)), image.kind == .pagemap || image.kind == .shmemPagemap,
          member.hasPrefix(prefix), case .memory(let bytes) = storage
        else { return false }
        return (try? PageMap.pagesID(ofImage: bytes)) == pagesID
      }
      return named ? "to be read at any offset" : "because it comes before its pagemap"
    }
  }
}

extension CheckpointSource {
  /// An archive inside another file: a checkpoint image's layer, a containerd checkpoint image's CRIU images, or a
  /// container checkpoint in a pod archive.
  struct Enclosure {
    /// The archive.
    var reader: ArchiveReader
    /// The file its uncompressed members are read from in place, `nil` when it is streamed.
    var file: FileDescriptor?
    /// Where the archive starts in `file`.
    var baseOffset: Int64
    /// Only members below this directory (with the `/`), named without it: a legacy pod's container directory.
    var prefix: String?
    /// Reads what the archive reader left and checks it (a registry layer's size and digest).
    var finish: () throws -> Void

    /// What `stat` would say: a regular file (the archive branch of a checkpoint source).
    var status: stat {
      var info = stat()
      info.st_mode = S_IFREG | 0o400
      return info
    }

    init(
      reader: ArchiveReader, file: FileDescriptor?, baseOffset: Int64, prefix: String?,
      finish: @escaping () throws -> Void
    ) {
      self.reader = reader
      self.file = file
      self.baseOffset = baseOffset
      self.prefix = prefix
      self.finish = finish
    }

    init(layer: ImageLayer) {
      self.init(
        reader: layer.reader, file: layer.file, baseOffset: layer.baseOffset, prefix: nil,
        finish: { try layer.stream?.finish() })
    }
  }
}

/// Takes the bytes of a member of a compressed archive as they are decompressed (see
/// ``CheckpointSource/Loader/take(with:)``).
package protocol MemberReceiver: AnyObject {
  /// Reads the current member of `reader` to its end; returns what serves reads of its bytes at any offset
  /// afterwards, and how many bytes it had.
  func receive(from reader: ArchiveReader) throws -> (bytes: RandomAccessBytes, size: Int64)
}

/// A member whose bytes are still to come: readers can plan with its size, never read it.
final class PendingBytes: RandomAccessBytes {
  let source: String
  let member: String

  init(source: String, member: String) {
    self.source = source
    self.member = member
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    throw CheckpointError.notLoaded(source: source, member: member)
  }
}
