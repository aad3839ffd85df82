import Archive
import Glibc
import SystemSupport

/// The pod checkpoints an `insert` unpacks: each into a private (`0700`) temporary directory in the target, its
/// files `0600` with their times, its manifest held back and written last, then checked as a pod checkpoint and
/// renamed into place (never over anything); what is not committed is removed.
final class PodStaging {
  private let target: String
  private let input: String
  private var pods:
    [(name: String, directory: ScratchDirectory, root: FileDescriptor, marker: (ArchiveEntry, [UInt8])?)] = []
  private var committed = false

  init(target: String, input: String) {
    self.target = target
    self.input = input
  }

  deinit {
    if !committed { for pod in pods { Path.removeTree(pod.directory.path) } }
  }

  /// The names of the pod checkpoints staged.
  var names: [String] { pods.map(\.name) }

  /// Unpacks `entry` (checked, a regular file or a directory) when it belongs to a pod checkpoint
  /// (`checkpoint-<pod>_<namespace>-<time>/…`); false for any other member.
  func accept(_ entry: ArchiveEntry, named name: String, from reader: ArchiveReader) throws -> Bool {
    let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
    guard PodStoreEntry.parse(parts[0]) != nil, parts.count == 2 || entry.kind == .directory else { return false }
    let index = try pod(parts[0])
    guard parts.count == 2 else { return true }
    let root = pods[index].root
    if KubeletStore.podCompletionMarkers.contains(parts[1]) {
      guard pods[index].marker == nil else { throw KubeletStoreError.duplicateMember(archive: input, member: name) }
      guard entry.kind == .regular else {
        throw ArchiveError.unsupportedMemberType(archive: input, member: entry.path, type: entry.kindName)
      }
      pods[index].marker = (entry, try reader.readAll(limit: PodCheckpoint.Layout.manifestLimit, member: name))
      return true
    }
    try SafeExtraction.write(entry, named: parts[1], from: reader, under: root, display: Path.join(target, parts[0]))
    if entry.kind == .regular { try settle(parts[1], in: root, time: entry.modificationTime) }
    return true
  }

  /// The staged pod checkpoint `name`, created (unless the target has one of that name) when first seen.
  private func pod(_ name: String) throws -> Int {
    if let index = pods.firstIndex(where: { $0.name == name }) { return index }
    guard try Path.linkStatus(Path.join(target, name)) == nil else {
      throw KubeletStoreError.conflict(
        target: target, what: "pod checkpoint \(name) in \(input)", reason: "the target already has \(name)")
    }
    let directory = try ScratchDirectory(stem: AtomicFile.temporaryPrefix + name, in: target)
    pods.append((name, directory, try FileDescriptor(path: directory.path, flags: O_RDONLY | O_DIRECTORY), nil))
    return pods.count - 1
  }

  /// Gives a file written below `root` its time from the archive and flushes it.
  private func settle(_ relative: String, in root: FileDescriptor, time: Int64) throws {
    let file = try FileDescriptor(path: relative, flags: O_RDONLY | O_NOFOLLOW, relativeTo: root)
    var times = [timespec(tv_sec: Int(time), tv_nsec: 0), timespec(tv_sec: Int(time), tv_nsec: 0)]
    guard futimens(file.rawValue, &times) == 0 else { throw SystemError("cannot set the time of", path: relative) }
    try file.sync()
  }

  /// Writes each pod checkpoint's manifest, last, and reads it back as a pod checkpoint (names derived from the
  /// IDs, archives present and regular), before anything is committed.
  func finish() throws {
    for pod in pods {
      guard let (marker, bytes) = pod.marker else {
        throw KubeletStoreError.invalidPodCheckpoint(
          path: "\(pod.name) in \(input)", reason: "is incomplete: it has no \(PodCheckpoint.Layout.manifestName)")
      }
      let name = Path.base(of: marker.path)
      let file = try FileDescriptor(
        path: name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600, relativeTo: pod.root,
        displayPath: Path.join(Path.join(target, pod.name), name))
      try file.write(bytes)
      try file.close()
      try settle(name, in: pod.root, time: marker.modificationTime)
      do {
        let checkpoint = try PodCheckpoint(path: pod.directory.path)
        for container in checkpoint.containers { _ = try checkpoint.checkedPath(of: container) }
      } catch {
        throw KubeletStoreError.invalidPodCheckpoint(
          path: "\(pod.name) in \(input)",
          reason: "cannot be read: " + "\(error)".replacing(pod.directory.path, with: pod.name))
      }
      try pod.root.sync()
    }
  }

  /// Renames every staged pod checkpoint into place; if one cannot be, those already moved go back.
  func commit() throws {
    var moved: [Int] = []
    do {
      for (index, pod) in pods.enumerated() {
        try Path.renameNoReplace(pod.directory.path, to: Path.join(target, pod.name))
        moved.append(index)
      }
      if !moved.isEmpty { try Path.syncDirectory(target) }
    } catch {
      for index in moved {
        try? Path.renameNoReplace(Path.join(target, pods[index].name), to: pods[index].directory.path)
      }
      throw error
    }
    committed = true
  }
}
