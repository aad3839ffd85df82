import Archive
import Glibc
import SystemSupport

extension KubeletStore {
  /// Where the kubelet keeps pod checkpoints.
  public static let podCheckpointsTarget = "/var/lib/kubelet/pod-checkpoints"
  static let tarSuffix = ".tar"

  /// True when the target is a pod checkpoint store: a directory without `checkpointed.pods` holding at least one
  /// `checkpoint-<pod>_<namespace>-<time>` directory with a pod checkpoint in it.
  public var isPodStore: Bool { (try? podStoreNames()) ?? nil != nil }

  /// The store's entries, sorted by name (each read: its manifest, its size), `nil` when the target is not a pod
  /// checkpoint store.
  public func podCheckpoints() throws -> [PodStoreEntry]? {
    try podStoreNames()?.map { name, parsed in
      let state: PodStoreEntry.State
      if name.hasSuffix(Self.tarSuffix) {
        state = .archive
      } else {
        do {
          state = .complete(try PodCheckpoint(path: Path.join(target, name)))
        } catch PodCheckpointError.incomplete {
          state = .incomplete
        } catch {
          state = .unreadable(error)
        }
      }
      return PodStoreEntry(
        name: name, pod: parsed.pod, namespace: parsed.namespace, time: parsed.time,
        size: PodFiles(directory: target).size(of: name), state: state)
    }
  }

  /// The store's pod checkpoints (directories, not links, that are pod checkpoints; regular `.tar` files), sorted
  /// by name; `nil` unless there is at least one directory.
  private func podStoreNames() throws -> [(String, (pod: String, namespace: String, time: Timestamp))]? {
    guard let info = try Path.status(target), Path.isDirectory(info), try Path.linkStatus(metadataPath) == nil
    else { return nil }
    var directories = false
    typealias Named = (String, (pod: String, namespace: String, time: Timestamp))
    let entries = try Path.entries(of: target).sorted().compactMap { name -> Named? in
      guard let info = try Path.linkStatus(Path.join(target, name)) else { return nil }
      if name.hasSuffix(Self.tarSuffix) {
        guard Path.isRegularFile(info) else { return nil }
        return PodStoreEntry.parse(String(name.dropLast(Self.tarSuffix.count))).map { (name, $0) }
      }
      guard Path.isDirectory(info), let parsed = PodStoreEntry.parse(name), PodCheckpoint.isPod(Path.join(target, name))
      else { return nil }
      directories = true
      return (name, parsed)
    }
    return directories ? entries : nil
  }
}
