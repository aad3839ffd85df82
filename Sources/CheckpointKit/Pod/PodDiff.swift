/// `diff` of two pod checkpoints: their containers matched by name, each pair compared as two container
/// checkpoints are.
public struct PodDiff: Sendable {
  /// The two pod checkpoints.
  public var a: PodCheckpoint, b: PodCheckpoint
  /// Containers only in B, only in A, by name (sorted).
  public var added: [String], removed: [String]
  /// The containers in both, in A's order, with each side's checkpoint path.
  public var pairs: [(name: String, a: String, b: String)]

  /// Pairs the containers of the pod checkpoints at `a` and `b`.
  public init(_ a: String, _ b: String) throws {
    for (pod, other) in [(a, b), (b, a)] where PodCheckpoint.isPod(pod) && !PodCheckpoint.isPod(other) {
      throw PodCheckpointError.mixedDiff(pod: pod, container: other)
    }
    let podA = try PodCheckpoint(path: a)
    let podB = try PodCheckpoint(path: b)
    let namesA = Set(podA.containers.map(\.name))
    let namesB = Set(podB.containers.map(\.name))
    added = namesB.subtracting(namesA).sorted()
    removed = namesA.subtracting(namesB).sorted()
    pairs = try podA.containers.compactMap { container in
      guard let other = podB.containers.first(where: { $0.name == container.name }) else { return nil }
      return (container.name, try podA.checkedPath(of: container), try podB.checkedPath(of: other))
    }
    self.a = podA
    self.b = podB
  }

  /// Compares each pair (in A's order), handing each comparison to `body` as it is made.
  public func compare(
    options: CheckpointDiff.Options, _ body: (_ name: String, _ diff: CheckpointDiff) throws -> Void
  ) throws {
    for pair in pairs { try body(pair.name, try CheckpointDiff(pair.a, pair.b, options: options)) }
  }
}
