import Archive
import CRIU
import SystemSupport

/// `diff --rootfs`: files of `rootfs-diff.tar` added, removed and changed (size, mode or content), and paths
/// of `deleted.files` added and removed, between two checkpoints.
public struct RootFSChanges: Equatable, Sendable {
  /// A member of `rootfs-diff.tar` with its content's SHA-256 (hex), `-> target` for a link, empty for what
  /// else holds no data.
  public struct File: Equatable, Sendable {
    public var path: String
    public var size: Int64
    public var mode: String
    public var digest: String
  }

  /// A file in A and in B.
  public struct Pair: Equatable, Sendable {
    public var before: File
    public var after: File
  }

  public var added: [File] = []
  public var removed: [File] = []
  public var changed: [Pair] = []
  /// How many files are the same on both sides.
  public var unchanged = 0
  /// Paths in B's `deleted.files` and not in A's.
  public var deletedAdded: [String] = []
  /// Paths in A's `deleted.files` and not in B's.
  public var deletedRemoved: [String] = []

  /// True when nothing differs.
  public var isEmpty: Bool {
    added.isEmpty && removed.isEmpty && changed.isEmpty && deletedAdded.isEmpty && deletedRemoved.isEmpty
  }

  /// Compares the root file system changes of two checkpoints (each may have none).
  init(_ a: CheckpointSource, _ b: CheckpointSource) throws {
    let filesA = try Self.files(of: a)
    let filesB = try Self.files(of: b)
    let pathsB = Set(filesB.keys)
    for path in filesB.keys.sorted() {
      guard let after = filesB[path] else { continue }
      guard let before = filesA[path] else {
        added.append(after)
        continue
      }
      if before == after { unchanged += 1 } else { changed.append(Pair(before: before, after: after)) }
    }
    removed = filesA.keys.filter { !pathsB.contains($0) }.sorted().compactMap { filesA[$0] }
    let deletedA = Set(try RootFSDiff.deletedFiles(of: a))
    let deletedB = Set(try RootFSDiff.deletedFiles(of: b))
    deletedAdded = deletedB.subtracting(deletedA).sorted()
    deletedRemoved = deletedA.subtracting(deletedB).sorted()
  }

  /// The members of the source's `rootfs-diff.tar` by absolute path, each digested while it streams by.
  static func files(of source: CheckpointSource) throws -> [String: File] {
    guard source.contains(RootFSDiff.archiveName) else { return [:] }
    let reader = try ArchivedFile.reader(for: source, member: RootFSDiff.archiveName)
    var result: [String: File] = [:]
    while let entry = try reader.next() {
      guard let name = entry.normalizedPath else { continue }
      var digest = ""
      if entry.kind == .regular {
        var hash = SHA256Hasher()
        try reader.forEachBlock { hash.update($0) }
        digest = hash.finalize()
      } else if entry.kind == .symbolicLink || entry.kind == .hardLink {
        digest = "-> " + (entry.linkTarget ?? "")
      }
      let path = "/" + name
      result[path] = File(path: path, size: entry.size, mode: ArchivedFile.mode(of: entry), digest: digest)
    }
    return result
  }
}
