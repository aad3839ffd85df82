/// What `verify` found in one checkpoint: its problems (none when it is intact) and how much was checked.
public struct VerifyReport: Equatable, Sendable {
  /// The checkpoint as the user named it.
  public var checkpoint: String
  /// The kind of checkpoint, as its verifier names it (``CheckpointVerifier/kind``).
  public var kind: String
  /// Every problem, in the order found.
  public var problems: [Problem] = []
  /// Regular-file members read (a kubelet store: its index and archives, plus their members).
  public var members = 0
  /// CRIU protobuf images decoded.
  public var images = 0
  /// Memory pages in the pages files.
  public var pages: Int64 = 0

  /// An empty report of `checkpoint`.
  public init(checkpoint: String, kind: String) {
    self.checkpoint = checkpoint
    self.kind = kind
  }

  /// True when no problem was found.
  public var isIntact: Bool { problems.isEmpty }

  /// Adds a problem of `member` of this checkpoint, once (a blob's digest may be found wrong by the image's
  /// check and again as the checkpoint in it is read).
  mutating func add(_ member: String?, _ what: String) {
    let problem = Problem(checkpoint: checkpoint, member: member, what: what)
    if !problems.contains(problem) { problems.append(problem) }
  }

  /// Adds another report's problems and counts (a kubelet store's archives).
  mutating func absorb(_ other: VerifyReport) {
    problems += other.problems
    members += other.members
    images += other.images
    pages += other.pages
  }
}
