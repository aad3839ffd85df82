import Archive
import CRIU
import SystemSupport

/// Names of the members of container checkpoints.
public enum CheckpointLayout {
  /// The CRIU image directory inside a container checkpoint.
  public static let imageDirectory = "checkpoint/"
  /// Podman's pre-dump images (`podman container checkpoint -P`), the parent of `checkpoint/`.
  public static let preCheckpointDirectory = "pre-checkpoint/"
  /// The JSON metadata files runtimes write beside the images. Each must be a regular file (upstream v1.6):
  /// one of another type under these names is refused, never followed or opened.
  public static let jsonMetadata: Set<String> = [
    CheckpointMember.config.name, CheckpointMember.spec.name, CheckpointMember.networkStatus.name, "status.dump",
    "status", "pod.options", "pod.dump", CheckpointMember.deletedFiles.name,
  ]
  /// Largest member read into memory.
  public static let memberLimit: Int64 = 256 << 20

  /// True for raw memory pages images (`pages-<id>.img`), which are read at random offsets.
  public static func isPages(_ name: String) -> Bool { CRIUImage.isPages(name) }
}

/// The members a container runtime writes at the root of a container checkpoint, beside the image directory.
public enum CheckpointMember: Hashable, Sendable, CaseIterable {
  /// `config.dump`: the container's configuration.
  case config
  /// `spec.dump`: the container's OCI runtime spec.
  case spec
  /// `network.status`: the container's network configuration.
  case networkStatus
  /// `stats-dump`: CRIU's dump statistics (at the root or in the image directory).
  case statsDump
  /// `rootfs-diff.tar`: the files changed in the root file system.
  case rootFSDiff
  /// `deleted.files`: the files deleted from the root file system.
  case deletedFiles
  /// `devshm-checkpoint.tar`: the contents of `/dev/shm`.
  case devShm
  /// `dump.log`: CRIU's log of the dump (at the root or in the image directory).
  case dumpLog

  /// The member's file name.
  public var name: String {
    switch self {
    case .config: return "config.dump"
    case .spec: return "spec.dump"
    case .networkStatus: return "network.status"
    case .statsDump: return "stats-dump"
    case .rootFSDiff: return "rootfs-diff.tar"
    case .deletedFiles: return "deleted.files"
    case .devShm: return "devshm-checkpoint.tar"
    case .dumpLog: return "dump.log"
    }
  }

  /// The member named `name`, if it is one of these.
  public init?(name: String) {
    guard let member = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = member
  }
}

/// The CRIU images inside a checkpoint's image directory.
public enum CRIUImage: Hashable, Sendable {
  case inventory, pstree, files, memfd, remapFilePath
  case core(tid: UInt32)
  case mm(pid: UInt32)
  case pagemap(pid: UInt32)
  case shmemPagemap(shmid: UInt64)
  case pages(id: UInt32)
  case fdinfo(id: UInt32)
  case ids(pid: UInt32)
  case fs(pid: UInt32)

  /// The file name of the image (relative to the image directory), e.g. `core-7.img`.
  public var name: String {
    switch self {
    case .core(let id), .mm(let id), .pagemap(let id), .pages(let id), .fdinfo(let id), .ids(let id), .fs(let id):
      return kind.prefix! + "\(id)" + Self.suffix
    case .shmemPagemap(let id): return kind.prefix! + "\(id)" + Self.suffix
    case .inventory, .pstree, .files, .memfd, .remapFilePath: return kind.fixedName!
    }
  }

  /// The kind of the image.
  public var kind: Kind {
    switch self {
    case .inventory: return .inventory
    case .pstree: return .pstree
    case .files: return .files
    case .memfd: return .memfd
    case .remapFilePath: return .remapFilePath
    case .core: return .core
    case .mm: return .mm
    case .pagemap: return .pagemap
    case .shmemPagemap: return .shmemPagemap
    case .pages: return .pages
    case .fdinfo: return .fdinfo
    case .ids: return .ids
    case .fs: return .fs
    }
  }

  /// The image with the file name `name` (a base name: `core-7.img`); strict: a numbered image needs a decimal
  /// number between its prefix and `.img`.
  public init?(name: String) {
    guard let kind = Kind(of: name) else { return nil }
    if let fixed = kind.fixedName {
      guard name == fixed else { return nil }
      switch kind {
      case .inventory: self = .inventory
      case .pstree: self = .pstree
      case .files: self = .files
      case .memfd: self = .memfd
      default: self = .remapFilePath
      }
      return
    }
    guard let prefix = kind.prefix, name.hasSuffix(Self.suffix), name.count >= prefix.count + Self.suffix.count
    else { return nil }
    let number = String(name.dropFirst(prefix.count).dropLast(Self.suffix.count))
    if kind == .shmemPagemap {
      guard let id = UInt64(number) else { return nil }
      self = .shmemPagemap(shmid: id)
      return
    }
    guard let id = UInt32(number) else { return nil }
    switch kind {
    case .core: self = .core(tid: id)
    case .mm: self = .mm(pid: id)
    case .pagemap: self = .pagemap(pid: id)
    case .pages: self = .pages(id: id)
    case .fdinfo: self = .fdinfo(id: id)
    case .ids: self = .ids(pid: id)
    default: self = .fs(pid: id)
    }
  }

  /// The suffix of every image name.
  public static let suffix = ".img"

  /// True for raw memory pages images (`pages-<id>.img`), which are read at random offsets.
  public static func isPages(_ name: String) -> Bool {
    let base = Path.base(of: name)
    return Kind(of: base) == .pages && base.hasSuffix(suffix)
  }

  /// The kinds of CRIU images, told apart by name.
  public enum Kind: Hashable, Sendable, CaseIterable {
    case inventory, pstree, files, memfd, remapFilePath
    case core, mm, pagemap, shmemPagemap, pages, fdinfo, ids, fs

    /// The name of a single-instance image (`pstree.img`); nil for numbered ones.
    public var fixedName: String? {
      switch self {
      case .inventory: return "inventory.img"
      case .pstree: return "pstree.img"
      case .files: return "files.img"
      case .memfd: return "memfd.img"
      case .remapFilePath: return "remap-fpath.img"
      default: return nil
      }
    }

    /// The name prefix of a numbered image (`core-`); nil for single-instance ones.
    public var prefix: String? {
      switch self {
      case .core: return "core-"
      case .mm: return "mm-"
      case .pagemap: return "pagemap-"
      case .shmemPagemap: return "pagemap-shmem-"
      case .pages: return "pages-"
      case .fdinfo: return "fdinfo-"
      case .ids: return "ids-"
      case .fs: return "fs-"
      default: return nil
      }
    }

    /// The kind of the image with base name `base`, lenient: a single-instance image by its exact name, a numbered
    /// one by its prefix alone (`core-anything`), as selections test names.
    public init?(of base: String) {
      if let kind = Self.allCases.first(where: { $0.fixedName == base }) {
        self = kind
        return
      }
      // pagemap-shmem- before pagemap-: the longer prefix wins.
      for kind in [Kind.core, .mm, .shmemPagemap, .pagemap, .pages, .fdinfo, .ids, .fs]
      where base.hasPrefix(kind.prefix!) {
        self = kind
        return
      }
      return nil
    }

    /// True when the kind is one of `kinds`.
    public func isOne(of kinds: Set<Kind>) -> Bool { kinds.contains(self) }

    /// True for private and shared-memory pagemaps (every name starting `pagemap-`).
    public var isPagemap: Bool { self == .pagemap || self == .shmemPagemap }
  }
}

extension CheckpointSource {
  /// The member path of a CRIU image: the image directory prefix and its name.
  public func memberPath(_ image: CRIUImage) -> String { imagePrefix + image.name }

  /// True when the image directory holds `image`.
  public func contains(_ image: CRIUImage) -> Bool { contains(memberPath(image)) }

  /// True when the checkpoint holds the root member `member`.
  public func contains(_ member: CheckpointMember) -> Bool { contains(member.name) }

  /// Decodes the CRIU image `image` (see ``image(_:)-swift.method``).
  public func image(_ image: CRIUImage) throws -> ImageFile { try self.image(image.name) }
}
