import SystemSupport

/// Errors raised while reading or writing tar archives.
public enum ArchiveError: Error, Equatable, CustomStringConvertible {
  /// libarchive failed; `code` is its return code, `message` its `archive_error_string`.
  case libarchive(archive: String, operation: String, code: Int32, message: String)
  /// A member name that would land outside the target (absolute, `..`, or empty).
  case unsafeMember(archive: String, member: String, reason: String)
  /// A member of a kind that is never written to disk (device node, FIFO, socket).
  case unsupportedMemberType(archive: String, member: String, type: String)
  /// A member larger than what may be read into memory.
  case memberTooLarge(archive: String, member: String, limit: Int64)
  /// A compression name that is not supported.
  case unknownCompression(String)

  /// The message on one line: names from archives and images may hold control characters.
  public var description: String { singleLine(message) }

  private var message: String {
    switch self {
    case .libarchive(let archive, let operation, _, let message):
      return "\(operation) \(archive): \(message)"
    case .unsafeMember(let archive, let member, let reason):
      return "archive \(archive) has an unsafe member \(quoted(member)): \(reason)"
    case .unsupportedMemberType(let archive, let member, let type):
      return "archive \(archive) has a member \(quoted(member)) of unsupported type \(type)"
    case .memberTooLarge(let archive, let member, let limit):
      return "member \(member) of \(archive) is larger than \(ByteCount.format(limit))"
    case .unknownCompression(let name):
      return "compression algorithm \(quoted(name)) is not supported (use "
        + ArchiveFilter.allCases.map(\.name).joined(separator: ", ") + ")"
    }
  }
}
