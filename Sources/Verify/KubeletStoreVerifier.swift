import CheckpointKit
import Glibc
import SystemSupport

/// A kubelet checkpoint store directory: `checkpointed.pods` valid, each pod's archive there as a regular file
/// and verified as a container checkpoint (its problems named `<store>/<archive>`).
public struct KubeletStoreVerifier: CheckpointVerifier {
  public init() {}

  public var kind: String { "kubelet-store" }

  /// A directory holding `checkpointed.pods` (of any type: a store whose index is a link is still a store).
  public func recognises(_ path: String) -> Bool {
    guard let info = try? Path.status(path), Path.isDirectory(info) else { return false }
    return (try? Path.linkStatus(Path.join(path, CheckpointMetadata.fileName))) != nil
  }

  public func verify(_ path: String, options: VerifyOptions) -> VerifyReport {
    var report = VerifyReport(checkpoint: path, kind: kind)
    let index = CheckpointMetadata.fileName
    let metadata: CheckpointMetadata
    do {
      let file = try FileDescriptor(path: Path.join(path, index), flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
      guard Path.isRegularFile(try file.status()) else {
        report.add(index, "not a regular file")
        return report
      }
      metadata = try CheckpointMetadata(
        json: file.readAll(limit: CheckpointMetadata.sizeLimit), source: Path.join(path, index))
    } catch {
      report.add(index, describe(error))
      return report
    }
    report.members += 1
    var archives: Set<String> = []
    for (number, pod) in metadata.pods.enumerated() {
      guard let name = pod.archiveName else {
        report.add(index, "pod \(number) (\(pod.name)) has no SandboxID that names a file")
        continue
      }
      guard archives.insert(name).inserted else {
        report.add(index, "pod \(number) (\(pod.name)) names \(name) again")
        continue
      }
      let archive = Path.join(path, name)
      guard let info = try? Path.linkStatus(archive) else {
        report.add(name, "missing (pod \(pod.name) in \(index))")
        continue
      }
      guard Path.isRegularFile(info) else {
        report.add(name, "not a regular file")
        continue
      }
      report.members += 1
      report.absorb(ContainerCheckpointVerifier().verify(archive, options: options))
    }
    return report
  }
}
