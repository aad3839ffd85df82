import Glibc

/// A file written under a private temporary name beside its destination, then moved into place: the one scheme
/// for every named file this tool writes (outputs, kubelet store files, OCI layout blobs and indexes). Scratch
/// files that never get a name are ``UnlinkedFile``s, scratch directories ``ScratchDirectory``s.
///
/// The temporary file is created `0600` in the destination's directory, so the final rename never crosses a
/// file system and a reader never sees a half-written file. If the writer is released without ``commit(replace:)``,
/// the temporary file is removed.
public final class AtomicFile {
  /// Name prefix of every temporary file this tool creates; stale ones can be recognised by it.
  public static let temporaryPrefix = ".checkpointctl-tmp-"

  /// The open temporary file.
  public let descriptor: FileDescriptor
  /// The destination, as the user knows it.
  public private(set) var destination: String
  private let temporaryPath: String
  private var finished = false

  /// Creates the temporary file beside `destination`; errors name `displayPath` (the destination by default).
  public init(destination: String, displayPath: String? = nil) throws {
    self.destination = destination
    let directory = Path.directory(of: destination)
    let template = Path.join(directory, AtomicFile.temporaryPrefix + Path.base(of: destination) + ".XXXXXX")
    var bytes = Array(template.utf8CString)
    let fd = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else { throw SystemError("cannot create a file in", path: directory) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    temporaryPath = String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    descriptor = FileDescriptor(rawValue: fd, displayPath: displayPath ?? destination)
    _ = fchmod(fd, 0o600)
  }

  deinit { discard() }

  /// Syncs the data and moves the file to its destination, replacing an existing file only if `replace` is true.
  public func commit(replace: Bool = true) throws {
    guard !finished else { return }
    try descriptor.sync()
    try descriptor.close()
    if replace {
      guard rename(temporaryPath, destination) == 0 else {
        throw SystemError("cannot write", path: destination)
      }
    } else {
      // link(2) fails with EEXIST instead of replacing: an atomic "create if absent".
      guard link(temporaryPath, destination) == 0 else {
        throw SystemError("cannot create", path: destination)
      }
      unlink(temporaryPath)
    }
    finished = true
    try Path.syncDirectory(Path.directory(of: destination))
  }

  /// Moves the file to `path` instead, beside the destination given at creation (a blob named by its digest once
  /// it is written), replacing an existing file.
  public func commit(as path: String) throws {
    destination = path
    try commit()
  }

  /// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed over it.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    let file = try AtomicFile(destination: path)
    try file.descriptor.write(bytes)
    try file.commit()
  }

  /// Removes the temporary file (nothing happens after a commit).
  public func discard() {
    guard !finished else { return }
    finished = true
    try? descriptor.close()
    unlink(temporaryPath)
  }
}
