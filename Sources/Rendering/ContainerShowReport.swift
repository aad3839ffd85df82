import Archive
import CRIU
import CheckpointKit
import OCI
import SystemSupport

/// Reads container checkpoints for `show` and renders upstream checkpointctl's table.
public struct ContainerShowReport: Sendable {
  /// The checkpoints that could be read, in the order given.
  public var checkpoints: [ContainerCheckpoint]
  /// The inputs that could not be read, each with its error, in the order given.
  public var failures: [Failure]
  /// How many inputs were given: with more than one, the table has both size columns and no title line.
  public var inputCount: Int
  /// The pod checkpoints among the inputs, each with its containers' checkpoints, in the order given.
  public var pods: [(pod: PodCheckpoint, containers: [ContainerCheckpoint])] = []

  /// An input that could not be read.
  public typealias Failure = CheckpointReadFailure

  /// Reads every input (archive or directory); a bad one is recorded in ``failures`` and the others still read.
  public init(inputs: [String], registry: RegistryOptions = RegistryOptions()) {
    var checkpoints: [ContainerCheckpoint] = []
    var failures: [Failure] = []
    var pods: [(PodCheckpoint, [ContainerCheckpoint])] = []
    for input in inputs {
      do {
        if PodCheckpoint.isPod(input) {
          let pod = try PodCheckpoint(path: input)
          let (containers, containerFailures) = pod.containerCheckpoints(registry: registry)
          pods.append((pod, containers))
          failures += containerFailures
          continue
        }
        checkpoints.append(try ContainerCheckpoint(path: input, registry: registry))
      } catch {
        failures.append(Failure(path: input, message: Self.message(for: error, input: input)))
      }
    }
    self.init(checkpoints: checkpoints, failures: failures, inputCount: inputs.count - pods.count)
    self.pods = pods
  }

  /// A report of checkpoints already read.
  public init(checkpoints: [ContainerCheckpoint], failures: [Failure] = [], inputCount: Int? = nil) {
    self.checkpoints = checkpoints
    self.failures = failures
    self.inputCount = inputCount ?? checkpoints.count
  }

  /// The table, as upstream prints it. One input: a blank line, `Displaying container checkpoint data from
  /// <path>`, a blank line, then the table, with `ROOT FS DIFF SIZE` only when `rootfs-diff.tar` is non-empty.
  /// Several inputs: the table alone, both size columns always there (`0 B` when absent). Empty when nothing
  /// could be read.
  public var table: String {
    containerTable + pods.map { Self.podTable($0.pod, containers: $0.containers) }.joined()
  }

  /// A pod checkpoint: a title, the pod's line, and a line per readable container as in upstream's table of
  /// several checkpoints.
  static func podTable(_ pod: PodCheckpoint, containers: [ContainerCheckpoint]) -> String {
    let header = ["Pod", "Namespace", "UID", "Sandbox ID", "Runtime", "Checkpointed", "Containers", "Size"]
    let runtime = pod.runtime + (pod.runtimeHandler.map { " (\($0))" } ?? "")
    let row = [
      pod.name, pod.namespace, pod.uid, String(pod.sandboxID.prefix(12)), runtime,
      pod.checkpointed?.rfc3339 ?? "", String(pod.containers.count), ByteCount.format(pod.size),
    ]
    let title = "\nDisplaying pod checkpoint data from \(pod.path)\n\n"
    let containerTable = ContainerShowReport(checkpoints: containers, inputCount: 2).containerTable
    return title + PlainTable.render(headed(header, [row])) + (containerTable.isEmpty ? "" : "\n" + containerTable)
  }

  /// Upstream's table of the container checkpoints.
  var containerTable: String {
    guard !checkpoints.isEmpty else { return "" }
    var header = ["Container", "Image", "ID", "Runtime", "Created", "Engine", "CHKPT Size"]
    let single = inputCount == 1
    let showDiff = !single || checkpoints.contains { $0.rootFSDiffSize != 0 }
    if showDiff { header.append("Root Fs Diff Size") }
    let rows = checkpoints.map { checkpoint in
      var row = [
        checkpoint.name, checkpoint.image, checkpoint.shortID, checkpoint.runtime, checkpoint.created,
        checkpoint.engine.displayName, ByteCount.format(checkpoint.checkpointSize),
      ]
      if showDiff { row.append(ByteCount.format(checkpoint.rootFSDiffSize)) }
      return row
    }
    let title = single ? "\nDisplaying container checkpoint data from \(checkpoints[0].path)\n\n" : ""
    return title + PlainTable.render(Self.headed(header, rows))
  }

  /// Upstream's table layout: the header upper-cased, a row of dashes as long as each header, then the rows.
  static func headed(_ header: [String], _ rows: [[String]]) -> [[String]] {
    [header.map { $0.uppercased() }, header.map { String(repeating: "-", count: $0.count) }] + rows
  }

  /// An error's description, prefixed with the input when it does not name it already.
  static func message(for error: Error, input: String) -> String {
    let text = "\(error)"
    return text.contains(input) ? text : "\(input): \(text)"
  }
}
