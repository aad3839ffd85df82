import Glibc

/// A failed system call, named after the user's file it was about.
public struct SystemError: Error, Equatable, CustomStringConvertible {
  /// What was being done, e.g. `"cannot open"`.
  public var operation: String
  /// The path as the user gave it (never a temp path).
  public var path: String
  /// The `errno` value.
  public var code: Int32

  /// Creates an error from an operation, a path and an `errno` value.
  public init(_ operation: String, path: String, code: Int32 = errno) {
    self.operation = operation
    self.path = path
    self.code = code
  }

  /// The C library's message for `code`, lower-cased at the start like Go's.
  public var reason: String {
    guard let text = strerror(code) else { return "error \(code)" }
    let message = String(cString: text)
    guard let first = message.first else { return message }
    return first.lowercased() + message.dropFirst()
  }

  public var description: String { singleLine("\(operation) \(path): \(reason)") }
}
