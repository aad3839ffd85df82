import Archive
import CRIU
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@testable import CheckpointKit

/// Issue #23: which processes' memory is read while a compressed archive is decompressed, and that every way of
/// reading gives the same results.
@Suite struct MemoryPassTests {
  /// The members of `fixture`, in its order, written again to `path` in `order` with `compression`.
  static func rewrite(
    _ fixture: String, to path: String, compression: ArchiveFilter,
    order: ([TestArchive.Member]) -> [TestArchive.Member] = { $0 }
  ) throws {
    let members = try TestArchive.read(Fixtures.path(fixture)).compactMap { entry, bytes -> TestArchive.Member? in
      switch entry.kind {
      case .directory: return .directory(entry.path)
      case .regular: return .file(entry.path, bytes)
      default: return nil
      }
    }
    try TestArchive.write(order(members), to: path, compression: compression)
  }

  /// Moves every `pages-*.img` to the front, as `tar cf` of a directory may list them.
  static func pagesFirst(_ members: [TestArchive.Member]) -> [TestArchive.Member] {
    func isPages(_ member: TestArchive.Member) -> Bool {
      if case .file(let name, _) = member { return CheckpointLayout.isPages(name) }
      return false
    }
    return members.filter(isPages) + members.filter { !isPages($0) }
  }

  @Test func aSearchReadsEachProcessAsItsPagesAreDecompressed() throws {
    let directory = try TemporaryDirectory()
    let pattern = try SearchPattern(string: "NEEDLE")
    for fixture in ["busybox-memhog64.tar.zst", "busybox-shm.tar.gz", "busybox-diff-1.tar"] {
      let plain = try MemorySearch.search(
        CheckpointSource(path: Fixtures.path(fixture), selection: MemorySelection.memory), pattern: pattern,
        context: 16)
      let zstd = directory.file("\(fixture).zst")
      try Self.rewrite(fixture, to: zstd, compression: .zstd)
      let streamed = try MemorySearch.pass(path: zstd, pattern: pattern, context: 16)
      // Every process whose pagemap comes before its pages, and whose shared memory is read before them.
      let expected: Set<UInt32> =
        fixture == "busybox-diff-1.tar" ? [1, 7, 8] : fixture == "busybox-shm.tar.gz" ? [1, 6] : [1]
      #expect(Set(streamed.matches.keys) == expected, "\(fixture)")
      #expect(try MemorySearch.search(streamed, pattern: pattern, context: 16) == plain, "\(fixture)")
      let reordered = directory.file("\(fixture).first.zst")
      try Self.rewrite(fixture, to: reordered, compression: .zstd, order: Self.pagesFirst)
      let buffered = try MemorySearch.pass(path: reordered, pattern: pattern, context: 16)
      #expect(buffered.matches.isEmpty)
      #expect(try MemorySearch.search(buffered, pattern: pattern, context: 16) == plain, "\(fixture)")
    }
  }

  @Test func diffComparesPagesWhileBothCheckpointsAreRead() throws {
    let directory = try TemporaryDirectory()
    var options = CheckpointDiff.Options.all
    options.hexdump = true
    let a = Fixtures.path("busybox-diff-1.tar")
    let b = Fixtures.path("busybox-diff-2.tar")
    let plain = try CheckpointDiff(a, b, options: options)
    #expect(plain.comparedWhileReading.isEmpty)
    let zstdA = directory.file("a.tar.zst")
    let zstdB = directory.file("b.tar.zst")
    let firstB = directory.file("b.first.tar.zst")
    try Self.rewrite("busybox-diff-1.tar", to: zstdA, compression: .zstd)
    try Self.rewrite("busybox-diff-2.tar", to: zstdB, compression: .zstd)
    try Self.rewrite("busybox-diff-2.tar", to: firstB, compression: .zstd, order: Self.pagesFirst)
    func rows(_ diff: CheckpointDiff) throws -> [[UInt8]] {
      var result: [[UInt8]] = []
      for process in diff.pages ?? [] {
        for range in process.ranges {
          try diff.hexRows(of: range) { address, x, y in result.append(withUnsafeBytes(of: address, Array.init) + x + y)
          }
        }
      }
      return result
    }
    func summary(_ diff: CheckpointDiff) -> [String] {
      (diff.pages ?? []).map { process in
        "\(process.pid) \(process.command) \(process.unchangedBytes) "
          + process.ranges.map { "\($0.start)-\($0.end) \($0.kind) \($0.vma)" }.joined(separator: ",")
      }
    }
    let plainRows = try rows(plain)
    #expect(!plainRows.isEmpty)
    // Processes 1, 7 and 8 are in both (14 to 16 only in B). Both streamed: compared pairwise where both
    // streams are at the same process (1 always; 7 and 8 depending on which side finishes first); one a plain
    // archive, or one whose pages come first (it finishes reading and buffers them): compared against it
    // (of B's processes in A, only 1 is taken while B is streamed; the others are compared afterwards).
    let cases: [(String, String, Set<UInt32>)] = [
      (zstdA, zstdB, []), (zstdA, b, [1, 7, 8]), (a, zstdB, [1]), (zstdA, firstB, [1, 7, 8]),
    ]
    for (x, y, compared) in cases {
      let diff = try CheckpointDiff(x, y, options: options)
      #expect(
        compared.isEmpty
          ? diff.comparedWhileReading.contains(1) && diff.comparedWhileReading.isSubset(of: [1, 7, 8])
          : diff.comparedWhileReading == compared, "\(x) \(y) \(diff.comparedWhileReading)")
      #expect(summary(diff) == summary(plain), "\(x) \(y)")
      #expect(try rows(diff) == plainRows, "\(x) \(y)")
    }
  }
}
