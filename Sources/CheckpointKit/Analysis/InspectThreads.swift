import Archive
import CRIU
import SystemSupport

/// One thread of a process, as `inspect --threads` shows it.
public struct InspectedThread: Equatable, Sendable {
  /// The thread id (in the container's pid namespace).
  public var tid: UInt32
  /// `thread_core.comm` of `core-<tid>.img` when set, else the process's `comm`.
  public var name: String

  /// A thread with these fields.
  public init(tid: UInt32, name: String) {
    self.tid = tid
    self.name = name
  }

  /// The threads `pstree.img` lists for `process`, named from their core images; none for zombies, whose
  /// thread list CRIU fills with garbage.
  static func threads(of process: CheckpointProcess, in source: CheckpointSource) throws -> [InspectedThread] {
    guard process.state.hasResources else { return [] }
    return try process.threads.map { tid in
      var name = process.name
      if source.contains(CRIUImage.core(tid: tid)),
        let core = try source.image(.core(tid: tid)).messages(CoreEntry.self).first,
        core.hasThreadCore, core.threadCore.hasComm, !core.threadCore.comm.isEmpty
      {
        name = core.threadCore.comm
      }
      return InspectedThread(tid: tid, name: name)
    }
  }
}
