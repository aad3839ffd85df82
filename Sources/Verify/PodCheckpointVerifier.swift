import CheckpointKit

/// A pod checkpoint (a directory or a tar of one): its manifest and sandbox configuration as the layout requires
/// them (names derived from the IDs, no container twice, at most 1024, metadata regular files), each CRI-O
/// archive's SHA-256 against the manifest's, then each container's checkpoint verified as any other (its problems
/// named `<pod>/<archive>`).
public struct PodCheckpointVerifier: CheckpointVerifier {
  public init() {}

  public var kind: String { "pod" }

  public func recognises(_ path: String) -> Bool { PodCheckpoint.isPod(path) }

  public func verify(_ path: String, options: VerifyOptions) -> VerifyReport {
    var report = VerifyReport(checkpoint: path, kind: kind)
    let pod: PodCheckpoint
    do {
      pod = try PodCheckpoint(path: path)
    } catch {
      report.add(nil, describe(error))
      return report
    }
    for container in pod.containers {
      if let expected = container.sha256 {
        do {
          let actual = try pod.archiveSHA256(of: container)
          if actual != expected {
            report.add(container.location, "SHA-256 is \(actual), the manifest says \(expected)")
          }
        } catch {
          report.add(container.location, describe(error))
          continue
        }
      }
      report.absorb(ContainerCheckpointVerifier().verify(pod.path(of: container), options: options))
    }
    return report
  }
}
