/// One thing wrong with a checkpoint: which checkpoint, which member (none for the checkpoint as a whole: an
/// unreadable archive, a missing input) and what.
public struct Problem: Equatable, Sendable {
  /// The checkpoint as the user named it (or a kubelet store's archive, `<store>/<archive>`).
  public var checkpoint: String
  /// The member's normalised name (`checkpoint/pages-1.img`), `nil` for the checkpoint as a whole.
  public var member: String?
  /// What is wrong, on one line.
  public var what: String

  /// A problem of `member` (`nil`: the whole checkpoint).
  public init(checkpoint: String, member: String?, what: String) {
    self.checkpoint = checkpoint
    self.member = member
    self.what = what
  }
}
