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

extension KubeletStore {
  /// The files whose presence makes a pod checkpoint complete, written last: the manifest (the legacy layout's
  /// `pod.options`).
  static let podCompletionMarkers = [PodCheckpoint.Layout.manifestName, PodCheckpoint.Layout.legacyOptionsName]

  /// What `extract` packs of a pod checkpoint store: the entries `selection` names (pod names or entry names; all
  /// when empty), each directory with everything in it (directories before their files, the manifest last);
  /// incomplete ones are left out (``ExtractPlan/skipped``), an unreadable one is an error.
  func podExtractPlan(_ entries: [PodStoreEntry], selecting selection: [String]) throws -> ExtractPlan {
    for name in selection where !entries.contains(where: { $0.pod == name || $0.name == name }) {
      throw KubeletStoreError.noSuchPodCheckpoint(target: target, name: name)
    }
    var plan = ExtractPlan(metadata: nil, pods: 0, names: [], total: 0, newest: 0, members: [])
    for entry in entries where selection.isEmpty || selection.contains(entry.pod) || selection.contains(entry.name) {
      switch entry.state {
      case .incomplete:
        plan.skipped.append(entry.name)
        continue
      case .unreadable(let error): throw error
      case .complete: plan.pods += 1
      case .archive: break
      }
      plan.names.append(entry.name)
      try addPodMembers(entry.name, to: &plan, depth: 0)
    }
    guard !plan.names.isEmpty else { throw KubeletStoreError.noPodCheckpoint(target) }
    return plan
  }

  /// Adds `relative` (a pod checkpoint's directory, or something in it) to the plan, links refused.
  private func addPodMembers(_ relative: String, to plan: inout ExtractPlan, depth: Int) throws {
    let path = Path.join(target, relative)
    guard let info = try Path.linkStatus(path) else {
      throw KubeletStoreError.invalidPodCheckpoint(path: path, reason: "disappeared")
    }
    plan.members?.append(relative)
    plan.newest = max(plan.newest, Int64(info.st_mtim.tv_sec))
    if Path.isRegularFile(info) {
      plan.total += Int64(info.st_size)
      return
    }
    guard Path.isDirectory(info), depth < 8 else {
      throw KubeletStoreError.invalidPodCheckpoint(path: path, reason: "is not a regular file or a directory")
    }
    let names = try Path.entries(of: path).sorted()
    let last = depth == 0 ? Self.podCompletionMarkers : []
    for name in names.filter({ !last.contains($0) }) + names.filter(last.contains) {
      try addPodMembers(relative + "/" + name, to: &plan, depth: depth + 1)
    }
  }
}
