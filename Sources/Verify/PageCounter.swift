import Archive
import CheckpointKit
import SystemSupport

/// Takes a pages file as a compressed archive is decompressed and keeps only its size: `verify` needs no page,
/// only how many there are.
final class PageCounter: MemberReceiver, RandomAccessBytes {
  let source: String
  let member: String

  init(source: String, member: String) {
    self.source = source
    self.member = member
  }

  func receive(from reader: ArchiveReader) throws -> (bytes: RandomAccessBytes, size: Int64) {
    var size: Int64 = 0
    try reader.forEachBlock { size += Int64($0.count) }
    return (self, size)
  }

  /// The pages were counted, not kept.
  func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
    throw CheckpointError.notLoaded(source: source, member: member)
  }
}
