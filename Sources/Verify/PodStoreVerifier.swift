import CheckpointKit
import SystemSupport

/// The kubelet's pod checkpoint store (`/var/lib/kubelet/pod-checkpoints`): every `checkpoint-<pod>_<ns>-<time>`
/// entry verified as a pod checkpoint (its problems named `<store>/<entry>`); an incomplete one (no manifest) is a
/// problem, a proof of concept's `.tar` is verified as a pod archive.
public struct PodStoreVerifier: CheckpointVerifier {
  public init() {}

  public var kind: String { "pod-store" }

  /// A directory of pod checkpoints as ``KubeletStore/podCheckpoints()`` recognises it.
  public func recognises(_ path: String) -> Bool {
    guard let info = try? Path.status(path), Path.isDirectory(info), !PodCheckpoint.isPod(path) else { return false }
    return ((try? KubeletStore(target: path).podCheckpoints()) ?? nil) != nil
  }

  public func verify(_ path: String, options: VerifyOptions) -> VerifyReport {
    var report = VerifyReport(checkpoint: path, kind: kind)
    let entries: [PodStoreEntry]
    do {
      entries = try KubeletStore(target: path).podCheckpoints() ?? []
    } catch {
      report.add(nil, describe(error))
      return report
    }
    for entry in entries {
      report.members += 1
      if case .incomplete = entry.state {
        report.add(entry.name, "incomplete: no \(PodCheckpoint.Layout.manifestName)")
        continue
      }
      report.absorb(PodCheckpointVerifier().verify(Path.join(path, entry.name), options: options))
    }
    return report
  }
}
