import Glibc

extension KubeletStore {
  /// What `extract` wrote.
  public struct ExtractSummary: Equatable, Sendable {
    /// The pod archives written, in metadata order.
    public var podArchives: [String]
    /// Bytes of member data written (before compression).
    public var bytes: Int64
  }

  /// Writes the store (`checkpointed.pods` and every `<SandboxID>.tar`, at the archive root) to `output`; a
  /// directory with no `checkpointed.pods` that holds kubelet-API container checkpoints (`checkpoint-*.tar`)
  /// has those written instead.
  ///
  /// Every archive is checked before anything is written. The output is created `0600` under a temporary
  /// name beside it and renamed only when complete; `output` `-` means standard output. With `showProgress`, a
  /// progress line goes to stderr when it is a terminal and the data is large.
  @discardableResult
  public func extract(to output: String, compression: ArchiveFilter, showProgress: Bool = false) throws
    -> ExtractSummary
  {
    try requireDirectory()
    var metadata: (bytes: [UInt8], status: stat)?
    var names: [String]
    do {
      let file = try FileDescriptor(path: metadataPath, flags: O_RDONLY)
      let bytes = try file.readAll(limit: CheckpointMetadata.sizeLimit)
      metadata = (bytes, try file.status())
      names = try archiveNames(of: CheckpointMetadata(json: bytes, source: metadataPath), source: metadataPath)
    } catch let error as SystemError where error.code == ENOENT {
      let archives = try CheckpointList.archives(in: target).map(Path.base(of:))
      guard !archives.isEmpty else { throw KubeletStoreError.metadataMissing(metadataPath) }
      names = archives
    }
    var total = Int64(metadata?.bytes.count ?? 0)
    for name in names {
      let path = Path.join(target, name)
      guard let info = try Path.status(path) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "does not exist")
      }
      guard Path.isRegularFile(info) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "is not a regular file")
      }
      total += Int64(info.st_size)
    }

    let progress = Progress(label: "Extracting", total: total, enabled: showProgress ? nil : false)
    let destination = output == "-" ? nil : try AtomicFile(destination: output)
    let descriptor =
      destination?.descriptor
      ?? FileDescriptor(rawValue: STDOUT_FILENO, displayPath: "standard output", closeOnDeinit: false)
    let writer = try ArchiveWriter(descriptor: descriptor, compression: compression)
    var written: Int64 = 0
    if let metadata {
      try writer.addFile(
        named: CheckpointMetadata.fileName, bytes: metadata.bytes,
        permissions: UInt32(metadata.status.st_mode) & 0o7777,
        modificationTime: Int64(metadata.status.st_mtim.tv_sec))
      written += Int64(metadata.bytes.count)
    }
    for name in names {
      let path = Path.join(target, name)
      let file = try FileDescriptor(path: path, flags: O_RDONLY)
      let info = try file.status()
      guard Path.isRegularFile(info) else {
        throw KubeletStoreError.sandboxArchiveMissing(path: path, reason: "is not a regular file")
      }
      try writer.addFile(named: name, from: file, status: info) { progress.advance(by: $0) }
      written += Int64(info.st_size)
    }
    try writer.finish()
    try destination?.commit()
    progress.finish()
    return ExtractSummary(podArchives: names, bytes: written)
  }
}
