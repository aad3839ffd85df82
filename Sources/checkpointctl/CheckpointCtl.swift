import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import FoundationEssentials
import Glibc
import Rendering
import SystemSupport

/// The `checkpointctl` command: every failure prints `Error: <message>` on stderr and exits 1.
@main
struct CheckpointCtl: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "checkpointctl",
    abstract: "checkpointctl is a tool to read and manipulate checkpoint archives",
    discussion: """
      checkpointctl is a tool to read and manipulate checkpoint archives as created by Podman, CRI-O, \
      containerd and Kubernetes.
      """,
    version: "checkpointctl version \(version)",
    subcommands: [
      Show.self, Extract.self, Insert.self, List.self, Inspect.self, MemParse.self, Diff.self, Decode.self,
      Encode.self, Completion.self, CoreDump.self, Verify.self, Scan.self, Plugin.self, GenerateManual.self, Build.self,
    ]
  )

  static func main() {
    execPluginIfNamed(Array(CommandLine.arguments.dropFirst()))
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      exit(with: error)
    }
  }

  /// Help and version go to stdout with status 0; everything else is one `Error:` line and status 1.
  static func exit(with error: Error) -> Never {
    let code = exitCode(for: error)
    if code == .success {
      print(addingPlugins(to: fullMessage(for: error)))
      Glibc.exit(0)
    }
    if let exitCode = error as? ExitCode {
      // `scan` exits 2 when it found something; every other failure is 1.
      Glibc.exit(exitCode.rawValue == 0 ? 0 : exitCode.rawValue == 2 ? 2 : 1)
    }
    // One line whatever the message carries (names from archives, ArgumentParser's own errors).
    let message = singleLine(upstreamWording(message(for: error).trimmedWhitespace()))
    emitError("Error: \(message)\n")
    Glibc.exit(1)
  }
}

/// The parser's message for an unknown flag in upstream's (cobra's) words, which scripts match:
/// `unknown flag: --name`, `unknown shorthand flag: 'x' in -x`. Other messages are kept.
func upstreamWording(_ message: String) -> String {
  let prefix = "Unknown option '"
  guard message.hasPrefix(prefix), message.hasSuffix("'"), message.count > prefix.count + 1 else { return message }
  let flag = String(message.dropFirst(prefix.count).dropLast())
  if flag.hasPrefix("--") { return "unknown flag: \(flag)" }
  if flag.hasPrefix("-"), let letter = flag.dropFirst().first {
    return "unknown shorthand flag: '\(letter)' in \(flag)"
  }
  return message
}

/// Standard output as a descriptor, for the library calls that write bytes there (`-o -`).
var standardOutput: FileDescriptor {
  FileDescriptor(rawValue: STDOUT_FILENO, displayPath: "standard output", closeOnDeinit: false)
}

/// Writes text to standard output without buffering surprises (large outputs, pipes).
func emit(_ text: String) {
  try? standardOutput.write(Array(text.utf8))
}

/// Writes text to standard error.
func emitError(_ text: String) {
  try? FileDescriptor(rawValue: STDERR_FILENO, displayPath: "standard error", closeOnDeinit: false)
    .write(Array(text.utf8))
}
