import Glibc

/// `encode`: decode's JSON back into image bytes.
public enum ImageEncoding {
  /// Reads JSON from `input` (standard input when nil) and writes the image to `output` (`-`: standard output),
  /// atomically and `0600`.
  public static func encode(input: String?, output: String) throws {
    let source =
      try input.map { try FileDescriptor(path: $0, flags: O_RDONLY) }
      ?? FileDescriptor(rawValue: STDIN_FILENO, displayPath: "standard input", closeOnDeinit: false)
    let text = try source.readAll(limit: Int(CheckpointLayout.memberLimit))
    let bytes: [UInt8]
    do {
      bytes = try ImageJSON.encode(text).encoded()
    } catch let error as CRIUImageError {
      throw ImageDecodingError(name: input ?? "standard input", error: error)
    }
    if output == "-" {
      try FileDescriptor(rawValue: STDOUT_FILENO, displayPath: "standard output", closeOnDeinit: false).write(bytes)
      return
    }
    let file = try AtomicFile(destination: output)
    try file.descriptor.write(bytes)
    try file.commit()
  }
}
