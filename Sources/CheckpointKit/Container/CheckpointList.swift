import Archive
import CRIU
import Glibc
import SystemSupport

/// `list`: the container checkpoints the kubelet's checkpoint API wrote
/// (`checkpoint-<pod>_<namespace>-<container>-<timestamp>.tar`) in one or more directories.
public struct CheckpointList: Sendable {
  /// Where the kubelet writes checkpoints, spelled as upstream prints it.
  public static let defaultDirectory = "/var/lib/kubelet/checkpoints/"
  /// The prefix of the kubelet's checkpoint archives.
  public static let archivePrefix = "checkpoint-"

  /// One listed checkpoint.
  public struct Entry: Equatable, Sendable {
    /// The pod's namespace (empty for Podman).
    public var namespace: String
    /// The pod's name (empty for Podman).
    public var pod: String
    /// The container's name.
    public var container: String
    /// The engine that wrote it.
    public var engine: Engine
    /// When it was checkpointed: `config.dump`'s `checkpointedTime`, else the time in the file name.
    public var time: Timestamp?
    /// The archive's path.
    public var path: String

    /// The archive's file name.
    public var fileName: String { Path.base(of: path) }
  }

  /// The directories searched, as given.
  public var directories: [String]
  /// The directories that held `checkpoint-*` files, in the order given.
  public var listedDirectories: [String]
  /// The checkpoints read, oldest first (unknown times last), then by file name.
  public var entries: [Entry]
  /// Archives (or directories) that could not be read, in the order met.
  public var failures: [CheckpointReadFailure]
  /// The failures of each directory, by index in ``directories``.
  public private(set) var failuresByDirectory: [Int: [CheckpointReadFailure]] = [:]

  /// Reads every `checkpoint-*` file directly in each directory; a missing directory holds none, and an
  /// unreadable directory or archive is recorded in ``failures``.
  public init(directories: [String]) {
    self.directories = directories
    listedDirectories = []
    entries = []
    failures = []
    for (index, directory) in directories.enumerated() {
      var failed: [CheckpointReadFailure] = []
      defer {
        failures += failed
        failuresByDirectory[index] = failed
      }
      let archives: [String]
      do {
        archives = try Self.archives(in: directory)
      } catch {
        failed.append(.init(path: directory, message: "\(error)"))
        continue
      }
      guard !archives.isEmpty else { continue }
      listedDirectories.append(directory)
      for path in archives {
        do {
          guard PodCheckpoint.isPod(path) else {
            entries.append(try Self.entry(for: ContainerCheckpoint(path: path)))
            continue
          }
          // A pod checkpoint (the kubelet's pod-checkpoints directory): a row per container.
          let pod = try PodCheckpoint(path: path)
          let (checkpoints, podFailures) = pod.containerCheckpoints()
          failed += podFailures
          entries += checkpoints.map { checkpoint in
            var entry = Self.entry(for: checkpoint)
            entry.time = Self.timestamp(inFileName: Path.base(of: path)) ?? pod.checkpointed
            entry.path = path
            return entry
          }
        } catch {
          failed.append(.init(path: path, message: "\(error)"))
        }
      }
    }
    entries.sort { a, b in
      switch (a.time, b.time) {
      case (let x?, let y?) where x != y: return x < y
      case (.some, nil): return true
      case (nil, .some): return false
      default: return (a.fileName, a.path) < (b.fileName, b.path)
      }
    }
  }

  /// A row for a checkpoint; the time falls back to the file name's, since Podman records no checkpoint time.
  static func entry(for checkpoint: ContainerCheckpoint) -> Entry {
    Entry(
      namespace: checkpoint.namespace, pod: checkpoint.podName, container: checkpoint.name,
      engine: checkpoint.engine,
      time: checkpoint.checkpointed ?? timestamp(inFileName: Path.base(of: checkpoint.path)),
      path: checkpoint.path)
  }

  /// The `checkpoint-*` regular files (links followed) and pod checkpoint directories directly in `directory`,
  /// sorted by name; none when the directory does not exist or is not a directory.
  public static func archives(in directory: String) throws -> [String] {
    guard let info = try Path.status(directory), Path.isDirectory(info) else { return [] }
    let names = try Path.entries(of: directory).filter { name in
      guard name.hasPrefix(archivePrefix), let info = try Path.status(Path.join(directory, name)) else { return false }
      return Path.isRegularFile(info) || (Path.isDirectory(info) && PodCheckpoint.isPod(Path.join(directory, name)))
    }
    return names.sorted().map { Path.join(directory, $0) }
  }

  /// For `show` without inputs: the kubelet API's archives in `target` when it is a directory without
  /// `checkpointed.pods` (so not a pod checkpoint store) but with `checkpoint-*` files; `nil` otherwise.
  public static func kubeletArchives(inStore target: String) throws -> [String]? {
    guard let info = try Path.status(target), Path.isDirectory(info),
      try Path.status(Path.join(target, CheckpointMetadata.fileName)) == nil
    else { return nil }
    let archives = try archives(in: target)
    return archives.isEmpty ? nil : archives
  }

  /// True for a kubelet-API checkpoint file name (`checkpoint-<pod>_<namespace>-<container>-<time>.tar`).
  public static func isKubeletArchiveName(_ name: String) -> Bool {
    name.hasPrefix(archivePrefix) && !name.contains("/") && archiveSuffixes.contains { name.hasSuffix($0) }
  }

  /// Archive name endings, longest first.
  static let archiveSuffixes = [".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tar"]

  /// The RFC 3339 time ending a kubelet archive name (`…-2026-11-29T12:21:24Z.tar`), if there is one.
  public static func timestamp(inFileName name: String) -> Timestamp? {
    var stem = Substring(name)
    if let suffix = archiveSuffixes.first(where: { stem.hasSuffix($0) }) { stem = stem.dropLast(suffix.count) }
    // The time follows a `-`; the container name before it may itself contain dashes and digits.
    var index = stem.startIndex
    while let dash = stem[index...].firstIndex(of: "-") {
      let start = stem.index(after: dash)
      if let time = Timestamp(String(stem[start...])) { return time }
      index = start
    }
    return nil
  }
}
