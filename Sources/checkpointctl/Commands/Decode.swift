import Archive
import ArgumentParser
import CRIU
import CheckpointKit
import Glibc
import Rendering
import SystemSupport

extension CheckpointCtl {
  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "decode",
      abstract: "Decode a CRIU image to JSON (like crit decode), or list the images of a checkpoint",
      discussion: """
        PATH is an image file, ARCHIVE:checkpoint/NAME.img (POD:CONTAINER/checkpoint/NAME.img in a pod \
        checkpoint), or a checkpoint directory or archive (then one line per image: name, kind, entry count, \
        size). An image, or the ARCHIVE of ARCHIVE:member, may come through \
        a pipe (/dev/stdin). The JSON is crit's (CRIU 4.2), field for field: {"magic": ..., "entries": [...]}, \
        enums by name, bytes and payloads ("extra") as base64 lines, unix socket names quoted-printable.
        """)

    @Argument(help: ArgumentHelp("Image, ARCHIVE:MEMBER, directory or archive", valueName: "path"), completion: .file())
    var path: String

    @Flag(
      help: """
        Render as crit decode --pretty does: hex addresses and registers, flag names, major:minor devices, \
        IP addresses, crit's names of task states and socket values
        """)
    var pretty = false

    @OptionGroup(title: "Registry options (docker:// checkpoints)") var registry: RegistryFlags

    func run() throws {
      emit(try ImageDecoding.decode(path, pretty: pretty, registry: registry.options).text)
    }
  }

  struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "encode",
      abstract:
        "Encode crit's JSON (decode's output, with or without --pretty) back into a CRIU image (like crit encode)")

    @Option(
      name: [.customShort("i"), .long], help: ArgumentHelp("JSON input (default: standard input)", valueName: "file"),
      completion: .file())
    var input: String?

    @Option(
      name: [.customShort("o"), .long], help: ArgumentHelp("Image output (- for standard output)", valueName: "file"),
      completion: .file())
    var output: String

    /// Reads the JSON from `--input` (standard input without it) and writes the image to `--output` (`-`:
    /// standard output), atomically and `0600`.
    func run() throws {
      let source =
        try input.map { try FileDescriptor(path: $0, flags: O_RDONLY) }
        ?? FileDescriptor(rawValue: STDIN_FILENO, displayPath: "standard input", closeOnDeinit: false)
      let bytes = try ImageEncoding.encode(
        json: source.readAll(limit: Int(CheckpointLayout.memberLimit)), name: input ?? "standard input")
      guard output != "-" else { return try standardOutput.write(bytes) }
      let file = try AtomicFile(destination: output)
      try file.descriptor.write(bytes)
      try file.commit()
    }
  }
}
