import SystemSupport

/// One pod checkpoint of the kubelet's pod checkpoint store (`/var/lib/kubelet/pod-checkpoints`): a
/// `checkpoint-<pod>_<namespace>-<RFC 3339 time>` directory holding a pod checkpoint, or a `.tar` file of such a
/// name (earlier proofs of concept), which is listed and moved as it is.
public struct PodStoreEntry: Sendable {
  /// The directory's (or file's) name in the store.
  public var name: String
  /// The pod and namespace the name gives.
  public var pod: String, namespace: String
  /// The time the name ends with.
  public var time: Timestamp
  /// Bytes of its files.
  public var size: Int64
  /// What it holds.
  public var state: State

  /// What a store entry holds.
  public enum State: Sendable {
    /// A complete pod checkpoint.
    case complete(PodCheckpoint)
    /// A pod checkpoint without its manifest: the runtime never finished (the manifest is written last).
    case incomplete
    /// A `.tar` of a pod checkpoint (a proof of concept's), not looked into.
    case archive
    /// A pod checkpoint that cannot be read, and why.
    case unreadable(any Error)
  }

  /// The pod, namespace and time of a store name `checkpoint-<pod>_<namespace>-<time>` (FORMATS §5.7: pod names
  /// and namespaces hold no `_`; the time is the trailing RFC 3339 one), `nil` for any other name.
  static func parse(_ name: String) -> (pod: String, namespace: String, time: Timestamp)? {
    guard name.hasPrefix(CheckpointList.archivePrefix), !name.contains("/"),
      let underscore = name.firstIndex(of: "_")
    else { return nil }
    let pod = String(name[name.index(name.startIndex, offsetBy: CheckpointList.archivePrefix.count)..<underscore])
    let rest = name[name.index(after: underscore)...]
    var index = rest.startIndex
    while let dash = rest[index...].firstIndex(of: "-") {
      index = rest.index(after: dash)
      if let time = Timestamp(String(rest[index...])) {
        let namespace = String(rest[..<dash])
        return pod.isEmpty || namespace.isEmpty ? nil : (pod, namespace, time)
      }
    }
    return nil
  }
}
