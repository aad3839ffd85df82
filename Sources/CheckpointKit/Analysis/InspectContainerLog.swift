import SystemSupport

/// The end of the container's log saved in the checkpoint, as `inspect --log` shows it, read from the end in
/// bounded memory whatever the log's size.
public struct ContainerLog: Equatable, Sendable {
  /// Where engines save the log, in the order looked for: Podman's `ctr.log` (k8s-file and json-file drivers),
  /// containerd's `container.log`, CRI-O's member named after the annotation `io.kubernetes.cri-o.LogPath`.
  /// A member of another type than a regular file is never read: it counts as absent.
  public static let names = ["ctr.log", "container.log", "io.kubernetes.cri-o.LogPath"]
  /// How many lines are shown without `--log-lines`.
  public static let defaultLines = 50
  /// At most this many bytes from the end are read (and the one before them): when the lines asked for do not fit,
  /// the first one shown is cut (``partialFirstLine``).
  public static let tailLimit: Int64 = 4 << 20

  /// The member's name (`ctr.log`).
  public var name: String
  /// The log's size in bytes.
  public var size: Int64
  /// Its last lines, each without its newline (and a final carriage return), as the bytes the container wrote:
  /// a log may hold any bytes.
  public var lines: [[UInt8]]
  /// True when the first line is the end of a longer one, cut by ``tailLimit``.
  public var partialFirstLine: Bool

  /// A log with these fields.
  public init(name: String, size: Int64, lines: [[UInt8]], partialFirstLine: Bool = false) {
    self.name = name
    self.size = size
    self.lines = lines
    self.partialFirstLine = partialFirstLine
  }

  /// The last `lineCount` lines of the source's log; `nil` when it has none.
  public init?(source: CheckpointSource, lines lineCount: Int) throws {
    guard let name = Self.names.first(where: source.contains) else { return nil }
    let size = try source.size(of: name)
    let tail = try Self.tail(of: source.randomAccess(name), size: size, lines: lineCount)
    self.init(name: name, size: size, lines: tail.lines, partialFirstLine: tail.partial)
  }

  /// The last `count` lines of `size` bytes, read backwards in chunks until `count` newlines are found before
  /// the last line's end (each line after the first newline is whole), the start is reached, or ``tailLimit``
  /// bytes are read.
  static func tail(of bytes: RandomAccessBytes, size: Int64, lines count: Int) throws -> (
    lines: [[UInt8]], partial: Bool
  ) {
    guard count > 0, size > 0 else { return ([], false) }
    var chunks: [[UInt8]] = []
    var start = size
    var newlines = 0
    while start > 0 && size - start < tailLimit && newlines < count {
      let length = min(64 << 10, start, tailLimit - (size - start))
      var chunk = [UInt8](repeating: 0, count: Int(length))
      let read = try chunk.withUnsafeMutableBytes { try bytes.read(into: $0, at: start - length) }
      // A log that shrank since its size was taken: what is left of it.
      guard read == Int(length) else { return try tail(of: bytes, size: start - length + Int64(read), lines: count) }
      // The newline that ends the last line starts no line.
      newlines += chunk.lazy.filter { $0 == 0x0A }.count - (start == size && chunk.last == 0x0A ? 1 : 0)
      chunks.append(chunk)
      start -= length
    }
    var window = Array(chunks.reversed().joined())
    if window.last == 0x0A { window.removeLast() }
    let lines = window.split(separator: 0x0A, omittingEmptySubsequences: false).suffix(count)
    // Stopped by the limit: the first line is whole only when a newline comes just before the bytes read.
    var partial = false
    if start > 0 && newlines < count {
      var before: [UInt8] = [0]
      _ = try before.withUnsafeMutableBytes { try bytes.read(into: $0, at: start - 1) }
      partial = before[0] != 0x0A
    }
    return (lines.map { Array($0.last == 0x0D ? $0.dropLast() : $0) }, partial)
  }
}
