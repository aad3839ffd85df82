/// A checkpoint that could not be read, with its error (`show` and `list` report each one and go on).
public struct CheckpointReadFailure: Error, CustomStringConvertible, Sendable {
  /// The input as given.
  public var path: String
  /// Why it could not be read (its description names the input).
  public var message: String

  /// A failure of `path`.
  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { message }
}
