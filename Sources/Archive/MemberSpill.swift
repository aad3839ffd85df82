import SystemSupport

/// Members of an archive that cannot be read in place (a compressed archive, a pipe) kept for reads at any offset:
/// appended to one private temporary file, unlinked as soon as it is created (nothing is left behind, whatever
/// happens), by a writer thread so that decompressing and writing overlap.
public final class MemberSpill {
  private let stem: String
  /// The temporary file, once a member was appended.
  public private(set) var file: FileDescriptor?
  private var writer: BackgroundWriter?
  private var end: Int64 = 0

  /// A spill whose file, when one is needed, is named after `stem` in `$TMPDIR` until it is unlinked.
  public init(stem: String) {
    self.stem = stem
  }

  /// Appends the reader's current member to the end of the file; returns where its bytes are.
  public func append(from reader: ArchiveReader) throws -> (file: FileDescriptor, offset: Int64, size: Int64) {
    let file = try self.file ?? UnlinkedFile.make(stem: stem)
    self.file = file
    let writer = self.writer ?? BackgroundWriter(file: file, startsWriteback: false)
    self.writer = writer
    let size = try writer.append { try reader.read(into: $0) }
    defer { end += size }
    return (file, end, size)
  }

  /// Puts every appended byte in the file before anything reads it back; a later append continues at its end.
  public func flush() throws {
    try writer?.finish()
    writer = nil
  }
}
