import Archive
import CRIU
import CheckpointKit
import SystemSupport

extension CheckpointList {
  /// One piece of what `list` writes, on standard output or standard error.
  public enum Output: Equatable, Sendable {
    case standardOutput(String)
    case standardError(String)
  }

  /// What `list` prints on standard output: `Listing checkpoints in path: <dir>` for each directory that holds
  /// checkpoints, then one table over all of them; or `No checkpoints found in [<dirs>]`.
  public var text: String {
    output.compactMap { if case .standardOutput(let text) = $0 { text } else { nil } }.joined()
  }

  /// Everything `list` writes, in upstream's order: for each directory, its `Listing checkpoints in path:` line,
  /// then one `Error extracting information from <archive>: <reason>` line on standard error for each archive
  /// of it that could not be read; then the table (or `No checkpoints found in [<dirs>]`).
  public var output: [Output] {
    var result: [Output] = []
    for (index, directory) in directories.enumerated() {
      if listedDirectories.contains(directory) {
        result.append(.standardOutput("Listing checkpoints in path: \(directory)\n"))
      }
      for failure in failuresByDirectory[index] ?? [] {
        let line =
          failure.path == directory
          ? "Error: \(failure.message)" : "Error extracting information from \(failure.path): \(failure.message)"
        result.append(.standardError(singleLine(line) + "\n"))
      }
    }
    guard !listedDirectories.isEmpty else {
      return result + [.standardOutput("No checkpoints found in [\(directories.joined(separator: " "))]\n")]
    }
    let header = ["Namespace", "Pod", "Container", "Engine", "Time Checkpointed", "Checkpoint Name"]
    let rows = entries.map { entry in
      [entry.namespace, entry.pod, entry.container, entry.engine.displayName, entry.time?.rfc822 ?? "", entry.fileName]
    }
    return result + [.standardOutput(PlainTable.render(ContainerShowReport.headed(header, rows)))]
  }
}
