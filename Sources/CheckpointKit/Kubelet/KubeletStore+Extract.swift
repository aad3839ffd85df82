import Archive
import CRIU
import Glibc
import OCI
import SystemSupport

extension KubeletStore {
  /// What `extract` wrote.
  public struct ExtractSummary: Equatable, Sendable {
    /// The pod archives written, in metadata order (a pod checkpoint store's entries, by name).
    public var podArchives: [String]
    /// Bytes of member data written (before compression).
    public var bytes: Int64
    /// The index of the image written (what its tag names), `nil` for an archive file.
    public var image: Descriptor? = nil
    /// A pod checkpoint store's incomplete pod checkpoints, left out.
    public var skipped: [String] = []
  }

  /// What `extract` writes, checked before anything is written.
  struct ExtractPlan {
    /// `checkpointed.pods` (its bytes and status), absent for a directory of kubelet-API container checkpoints.
    var metadata: (bytes: [UInt8], status: stat)?
    /// How many pods the metadata lists.
    var pods: Int
    /// The archives, in metadata order (or the sorted `checkpoint-*.tar` names).
    var names: [String]
    /// Bytes of member data.
    var total: Int64
    /// The newest modification time of the members, seconds since the epoch.
    var newest: Int64
    /// A pod checkpoint store's members, directories and files (each directory's before its files, a pod
    /// checkpoint's manifest last); `nil` when the members are ``names``.
    var members: [String]? = nil
    /// A pod checkpoint store's incomplete pod checkpoints, left out.
    var skipped: [String] = []
  }

  /// Writes the store (`checkpointed.pods` and every `<SandboxID>.tar`, at the archive root) to `output`; a
  /// directory with no `checkpointed.pods` that holds kubelet-API container checkpoints (`checkpoint-*.tar`)
  /// has those written instead, and a pod checkpoint store (``isPodStore``) its complete pod checkpoints (those
  /// of `pods`, pod or entry names, when given), each directory with its name, its manifest last.
  ///
  /// Every archive is checked before anything is written, under a shared lock on the store (an insert is never
  /// seen half done). The output is created `0600` under a temporary name beside it and renamed only when
  /// complete; a descriptor (standard output) is written as it is. The job ("Extracting") reports to `progress`.
  @discardableResult
  public func extract(
    to output: ExtractOutput, compression: ArchiveFilter, pods: [String] = [], progress: ProgressSink = .none
  ) throws -> ExtractSummary {
    let lock = try lockShared()
    defer { withExtendedLifetime(lock) {} }
    let plan = try extractPlan(pods: pods)
    var destination: AtomicFile?
    let descriptor: FileDescriptor
    switch output {
    case .file(let path):
      let file = try AtomicFile(destination: path)
      destination = file
      descriptor = file.descriptor
    case .descriptor(let given):
      descriptor = given
    }
    let writer = try ArchiveWriter(descriptor: descriptor, compression: compression)
    let progress = progress.start("Extracting", total: plan.total)
    let summary = try write(plan, to: writer, progress: progress)
    try writer.finish()
    try destination?.commit()
    progress.finish()
    return summary
  }

  /// Where ``extract(to:compression:progress:)`` writes: a file (created beside its final name, renamed when
  /// complete) or an open descriptor (a pipe, standard output).
  public enum ExtractOutput {
    case file(String)
    case descriptor(FileDescriptor)
  }

  /// Takes a shared lock on the store directory (inserts hold it exclusively), which must exist.
  func lockShared() throws -> FileDescriptor {
    try requireDirectory()
    let lock = try FileDescriptor(path: target, flags: O_RDONLY | O_DIRECTORY)
    guard retrying({ flock(lock.rawValue, LOCK_SH) }) == 0 else { throw SystemError("cannot lock", path: target) }
    return lock
  }

  /// Reads the metadata and checks that every archive it lists is a regular file; a pod checkpoint store's plan
  /// has the pod checkpoints `pods` names.
  func extractPlan(pods selection: [String]) throws -> ExtractPlan {
    if let entries = try podCheckpoints() { return try podExtractPlan(entries, selecting: selection) }
    guard selection.isEmpty else { throw KubeletStoreError.notPodStore(target) }
    var metadata: (bytes: [UInt8], status: stat)?
    var names: [String]
    var pods = 0
    do {
      let file = try FileDescriptor(path: metadataPath, flags: O_RDONLY)
      let bytes = try file.readAll(limit: CheckpointMetadata.sizeLimit)
      metadata = (bytes, try file.status())
      let parsed = try CheckpointMetadata(json: bytes, source: metadataPath)
      pods = parsed.pods.count
      names = try archiveNames(of: parsed, source: metadataPath)
    } catch let error as SystemError where error.code == ENOENT {
      let archives = try CheckpointList.archives(in: target).map(Path.base(of:))
      guard !archives.isEmpty else { throw KubeletStoreError.metadataMissing(metadataPath) }
      names = archives
    }
    var total = Int64(metadata?.bytes.count ?? 0)
    var newest = metadata.map { Int64($0.status.st_mtim.tv_sec) } ?? 0
    for name in names {
      let path = Path.join(target, name)
      guard let info = try Path.status(path) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "does not exist")
      }
      guard Path.isRegularFile(info) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "is not a regular file")
      }
      total += Int64(info.st_size)
      newest = max(newest, Int64(info.st_mtim.tv_sec))
    }
    return ExtractPlan(metadata: metadata, pods: pods, names: names, total: total, newest: newest)
  }

  /// Writes the members: `checkpointed.pods`, then each archive, each with its file's mode, time and owner.
  func write(_ plan: ExtractPlan, to writer: TarMemberWriter, progress: any ProgressReporter) throws -> ExtractSummary {
    var written: Int64 = 0
    if let metadata = plan.metadata {
      var member = ArchiveEntry.regularFile(named: CheckpointMetadata.fileName, status: metadata.status)
      member.size = Int64(metadata.bytes.count)
      try writer.add(member, bytes: metadata.bytes)
      written += member.size
    }
    for name in plan.members ?? plan.names {
      let path = Path.join(target, name)
      // A pod checkpoint's files are taken as they are: a link is refused, a FIFO never blocks.
      let file = try FileDescriptor(path: path, flags: O_RDONLY | (plan.members == nil ? 0 : O_NOFOLLOW | O_NONBLOCK))
      let info = try file.status()
      if plan.members != nil && Path.isDirectory(info) {
        var member = ArchiveEntry.regularFile(named: name, status: info)
        (member.kind, member.size) = (.directory, 0)
        try writer.writeHeader(member)
        continue
      }
      guard Path.isRegularFile(info) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "is not a regular file")
      }
      try writer.add(.regularFile(named: name, status: info), from: file) { progress.advance(by: $0.count) }
      written += Int64(info.st_size)
    }
    return ExtractSummary(podArchives: plan.names, bytes: written, skipped: plan.skipped)
  }
}
