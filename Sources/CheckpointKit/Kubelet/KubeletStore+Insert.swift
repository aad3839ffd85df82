import Archive
import CRIU
import FoundationEssentials
import Glibc
import SystemSupport

extension KubeletStore {
  /// What `insert` did.
  public struct InsertSummary: Equatable, Sendable {
    /// SandboxIDs of the pods added to the metadata.
    public var addedPods: [String]
    /// SandboxIDs of pods that were already present, identical, and left alone.
    public var unchangedPods: [String]
    /// The pod checkpoints added to a pod checkpoint store.
    public var podCheckpoints: [String] = []
  }

  /// Adds the pods of an extracted store archive to this store, reading the archive once.
  ///
  /// Nothing is lost or overwritten: a pod already present with the same metadata and archive is skipped; any
  /// difference is a ``KubeletStoreError/conflict(target:what:reason:)`` and leaves the store exactly as it was.
  /// Pod archives are written under temporary names and moved into place before `checkpointed.pods` is replaced
  /// atomically; an exclusive lock on the directory serialises concurrent inserts. Only the metadata and the
  /// archives it lists are written; every other member is skipped, and an unsafe member name is an error.
  ///
  /// An archive of a pod checkpoint store (`checkpoint-<pod>_<namespace>-<time>/` directories) has each pod
  /// checkpoint unpacked into a private temporary directory in the target, its manifest written last, checked,
  /// and renamed into place; one the target already has is a conflict.
  @discardableResult
  public func insert(archive input: String) throws -> InsertSummary {
    try insert(ArchiveReader(path: input))
  }

  /// Takes the insert lock and adds what `reader` holds; `verify` runs once every member is read, before
  /// anything is committed (an image layer checks its digest there).
  func insert(_ reader: ArchiveReader, verify: () throws -> Void = {}) throws -> InsertSummary {
    let (lock, created) = try lockTarget()
    defer { withExtendedLifetime(lock) {} }
    do {
      return try insertLocked(reader, verify: verify)
    } catch {
      // A failed insert leaves no trace: directories it created (still empty) go too.
      for directory in created.reversed() { rmdir(directory) }
      throw error
    }
  }

  /// Creates the target if needed and takes the exclusive insert lock on it.
  private func lockTarget() throws -> (FileDescriptor, created: [String]) {
    while true {
      let created = try Path.makeDirectories(target)
      let lock = try FileDescriptor(path: target, flags: O_RDONLY | O_DIRECTORY)
      guard retrying({ flock(lock.rawValue, LOCK_EX) }) == 0 else { throw SystemError("cannot lock", path: target) }
      // A failed insert that created the directory removes it; if that happened while we waited, start again.
      let held = try lock.status()
      if let current = try Path.status(target), current.st_ino == held.st_ino, current.st_dev == held.st_dev {
        return (lock, created)
      }
    }
  }

  private func insertLocked(_ reader: ArchiveReader, verify: () throws -> Void) throws -> InsertSummary {
    let input = reader.displayPath
    removeStaleTemporaryFiles()

    let (incoming, staged, containerArchives, pods) = try stage(reader)
    try verify()
    // Kubelet-API container checkpoints (checkpoint-*.tar) travel on their own, with no metadata.
    for name in containerArchives {
      if case .differs(let reason)? = staged[name] {
        throw KubeletStoreError.conflict(target: target, what: "\(name) in \(input)", reason: reason)
      }
    }
    guard let incoming else {
      try pods.finish()
      try commit(containerArchives, from: staged) { try pods.commit() }
      return InsertSummary(addedPods: [], unchangedPods: [], podCheckpoints: pods.names)
    }
    guard pods.names.isEmpty else { throw KubeletStoreError.mixedArchive(input) }
    let existing = try Path.status(metadataPath) == nil ? nil : try readMetadata()
    let wanted = try archiveNames(of: incoming, source: "\(input):\(CheckpointMetadata.fileName)")
    for name in wanted {
      switch staged[name] {
      case nil:
        throw KubeletStoreError.sandboxArchiveNotInArchive(archive: input, member: name)
      case .differs(let reason)?:
        throw KubeletStoreError.conflict(target: target, what: "pod archive \(name) in \(input)", reason: reason)
      default: break
      }
    }
    let (merged, summary) = try merge(incoming, into: existing, input: input)

    // Commit: archives first (each created only if absent), then the metadata.
    try commit(wanted + containerArchives, from: staged) {
      if let merged {
        let file = try AtomicFile(destination: metadataPath)
        try file.descriptor.write(merged.serialized())
        try file.commit()
      }
    }
    return summary
  }

  /// Links the staged new archives into place (never replacing a file), then runs `finally`; on any failure
  /// the archives this call created are removed again.
  private func commit(_ names: [String], from staged: [String: StagedArchive], finally: () throws -> Void = {}) throws {
    var created: [String] = []
    do {
      for name in names {
        guard case .new(let file)? = staged[name] else { continue }
        try file.commit(replace: false)
        created.append(Path.join(target, name))
      }
      try finally()
    } catch {
      for path in created { unlink(path) }
      throw error
    }
  }

  /// A pod archive member after staging.
  enum StagedArchive {
    /// Written to a temporary file in the store, ready to be moved into place.
    case new(AtomicFile)
    /// The store already has a byte-identical file.
    case identical
    /// The store has a different file of that name.
    case differs(String)
  }

  /// Reads the archive once: parses the metadata, stages each pod archive member and every kubelet-API
  /// container checkpoint (`checkpoint-*.tar` at the root), and unpacks pod checkpoints.
  private func stage(_ reader: ArchiveReader) throws -> (
    CheckpointMetadata?, [String: StagedArchive], containerArchives: [String], PodStaging
  ) {
    let input = reader.displayPath
    var metadata: CheckpointMetadata?
    var wanted: Set<String>?
    var staged: [String: StagedArchive] = [:]
    var containerArchives: [String] = []
    let pods = PodStaging(target: target, input: input)
    while let entry = try reader.next() {
      let name = try SafeExtraction.checkedName(of: entry, in: input)
      guard let name else { continue }
      guard entry.kind == .directory || entry.kind == .regular else {
        throw ArchiveError.unsupportedMemberType(archive: input, member: entry.path, type: entry.kindName)
      }
      if try pods.accept(entry, named: name, from: reader) || entry.kind == .directory { continue }
      if name == CheckpointMetadata.fileName {
        guard metadata == nil else { throw KubeletStoreError.duplicateMember(archive: input, member: name) }
        let bytes = try reader.readAll(limit: Int64(CheckpointMetadata.sizeLimit), member: name)
        let parsed = try CheckpointMetadata(json: bytes, source: "\(input):\(name)")
        metadata = parsed
        wanted = Set(try archiveNames(of: parsed, source: "\(input):\(name)"))
        continue
      }
      // Only root-level archives are ever written; before the metadata is seen, any `.tar` might be a pod's.
      let isContainerArchive = CheckpointList.isKubeletArchiveName(name)
      guard !name.contains("/"), isContainerArchive || name.hasSuffix(".tar") && wanted?.contains(name) ?? true
      else { continue }
      guard staged[name] == nil else { throw KubeletStoreError.duplicateMember(archive: input, member: name) }
      staged[name] = try stage(entry, named: name, from: reader)
      if isContainerArchive { containerArchives.append(name) }
    }
    if metadata == nil && containerArchives.isEmpty && pods.names.isEmpty {
      throw KubeletStoreError.notKubeletArchive(input)
    }
    return (metadata, staged, containerArchives, pods)
  }

  /// Compares a member with the store's file of the same name, or copies it to a temporary file.
  private func stage(_ entry: ArchiveEntry, named name: String, from reader: ArchiveReader) throws -> StagedArchive {
    let path = Path.join(target, name)
    if let info = try Path.linkStatus(path) {
      guard info.st_mode & S_IFMT == S_IFREG else {
        return .differs("the store has \(name) and it is not a regular file")
      }
      guard Int64(info.st_size) == entry.size else { return .differs("the store's \(name) has different content") }
      let existing = try FileDescriptor(path: path, flags: O_RDONLY | O_NOFOLLOW)
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
      defer { buffer.deallocate() }
      var same = true
      var offset: Int64 = 0
      try reader.forEachBlock { block in
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<block.count])
        guard same, let base = block.baseAddress, let copy = part.baseAddress else { return }
        let n = try existing.read(into: part, at: offset)
        same = n == block.count && memcmp(copy, base, n) == 0
        offset += Int64(n)
      }
      return same ? .identical : .differs("the store's \(name) has different content")
    }
    let file = try AtomicFile(destination: path)
    _ = try PipelinedCopy.copy(into: file.descriptor) { try reader.read(into: $0) }
    return .new(file)
  }

  /// The archive file names of a metadata's pods (each once), refusing SandboxIDs that cannot name a file.
  func archiveNames(of metadata: CheckpointMetadata, source: String) throws -> [String] {
    var names: [String] = []
    for pod in metadata.pods {
      guard let name = pod.archiveName else {
        throw KubeletStoreError.unsafeSandboxID(source: source, sandboxID: pod.sandboxID)
      }
      if !names.contains(name) { names.append(name) }
    }
    return names
  }

  /// Merges the incoming metadata into the store's; `nil` when the store's file needs no change.
  private func merge(_ incoming: CheckpointMetadata, into existing: CheckpointMetadata?, input: String) throws
    -> (CheckpointMetadata?, InsertSummary)
  {
    let what = "\(input):\(CheckpointMetadata.fileName)"
    var merged = existing ?? CheckpointMetadata()
    var changed = existing == nil
    for (key, value) in incoming.fields {
      let current = JSONValue.member(key, in: merged.fields)
      if current == nil || current == .null {
        merged.fields[JSONValue.key(key, in: merged.fields) ?? key] = value
        changed = changed || value != .null
      } else if current != value && value != .null {
        throw KubeletStoreError.conflict(
          target: metadataPath, what: what,
          reason: "\(quoted(key)) is \(describe(value)) there but \(describe(current))")
      }
    }
    var summary = InsertSummary(addedPods: [], unchangedPods: [])
    for pod in incoming.pods {
      if let present = merged.pods.first(where: { $0.sandboxID == pod.sandboxID }) {
        guard present == pod else {
          throw KubeletStoreError.conflict(
            target: metadataPath, what: what,
            reason: "pod \(quoted(pod.sandboxID)) is already present with different metadata")
        }
        if !summary.unchangedPods.contains(pod.sandboxID) && !summary.addedPods.contains(pod.sandboxID) {
          summary.unchangedPods.append(pod.sandboxID)
        }
        continue
      }
      merged.pods.append(pod)
      summary.addedPods.append(pod.sandboxID)
      changed = true
    }
    return (changed ? merged : nil, summary)
  }

  private func describe(_ value: JSONValue?) -> String {
    guard let value else { return "absent" }
    return value.formatted().replacing("\n", with: " ")
  }

  /// Removes temporary files left by an insert or extract that was killed (the lock is held, so none is live).
  private func removeStaleTemporaryFiles() {
    guard let names = try? Path.entries(of: target) else { return }
    for name in names where name.hasPrefix(AtomicFile.temporaryPrefix) {
      Path.removeTree(Path.join(target, name))
    }
  }
}
