import Archive
import CRIU
import CheckpointKit
import Glibc
import SystemSupport

/// Where the contents of mapped files come from: the container's root file system as the checkpoint knows it.
/// `rootfs-diff.tar` (files the container added or changed) is the upper layer, `--sysroot` (the container
/// image, for example mounted) the lower one unless `deleted.files` lists the path; files under `/dev/shm` come
/// from Podman's `devshm-checkpoint.tar`. A candidate whose size differs from the size CRIU recorded is not the
/// file the process mapped and is not used.
final class CoreFileSources {
  /// Podman's copy of the container's `/dev/shm`.
  static let devShmArchive = CheckpointMember.devShm.name
  static let devShmPrefix = "/dev/shm/"

  private var members: [String: (bytes: RandomAccessBytes, size: Int64)] = [:]
  private let deleted: Set<String>
  private let sysroot: String?

  /// Indexes the layers for the absolute paths in `wanted`.
  init(source: CheckpointSource, sysroot: String?, wanted: Set<String>) throws {
    self.sysroot = sysroot
    var deleted: Set<String> = []
    if !wanted.isEmpty && source.contains(RootFSDiff.deletedFilesName) {
      deleted = Set(try RootFSDiff(source: source).deleted)
    }
    self.deleted = deleted
    guard !wanted.isEmpty else { return }
    if source.contains(Self.devShmArchive) {
      try index(source: source, member: Self.devShmArchive, prefix: Self.devShmPrefix, wanted: wanted)
    }
    if source.contains(RootFSDiff.archiveName) {
      try index(source: source, member: RootFSDiff.archiveName, prefix: "/", wanted: wanted)
    }
  }

  /// The bytes of `path` as the process saw them, if a layer holds a file of `expectedSize` bytes there.
  func content(of path: String, expectedSize: Int64?) throws -> (bytes: RandomAccessBytes, size: Int64)? {
    if let member = members[path], expectedSize.map({ $0 == member.size }) ?? true { return member }
    guard let sysroot, !deleted.contains(path), !path.hasPrefix(Self.devShmPrefix), path.hasPrefix("/"),
      !path.split(separator: "/").contains("..")
    else { return nil }
    let full = sysroot + path
    guard let info = try? Path.status(full), Path.isRegularFile(info) else { return nil }
    let size = Int64(info.st_size)
    guard expectedSize.map({ $0 == size }) ?? true else { return nil }
    guard let file = try? FileDescriptor(path: full, flags: O_RDONLY) else { return nil }
    return (file, size)
  }

  /// Finds the wanted regular files of the tar `member` (paths below `prefix`): read in place when the tar is
  /// uncompressed, else copied to a private temporary file.
  private func index(source: CheckpointSource, member: String, prefix: String, wanted: Set<String>) throws {
    let outer = try source.randomAccess(member)
    let reader = try ArchiveReader(
      bytes: outer, size: source.size(of: member), displayPath: Path.join(source.displayPath, member))
    while let entry = try reader.next() {
      guard entry.kind == .regular, let name = entry.normalizedPath else { continue }
      let path = prefix + name
      guard wanted.contains(path), members[path] == nil else { continue }
      if let offset = entry.dataOffset {
        members[path] = (FileSlice(base: outer, offset: offset, size: entry.size), entry.size)
      } else {
        let file = try UnlinkedFile.make(stem: "checkpointctl-core")
        let copied = try PipelinedCopy.copy(into: file, startsWriteback: false) { try reader.read(into: $0) }
        members[path] = (file, copied)
      }
    }
  }
}
