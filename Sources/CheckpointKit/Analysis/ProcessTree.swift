import Archive
import CRIU
import SystemSupport

/// A task's state as CRIU records it (`task_core_entry.task_state`).
public enum TaskState: Equatable, Sendable, CustomStringConvertible {
  case alive, stopped
  /// CRIU writes zombies as TASK_DEAD (2); TASK_ZOMBIE (6) never appears in images.
  case zombie
  case other(UInt32)

  /// The state for CRIU's number.
  public init(_ value: UInt32) {
    switch value {
    case 1: self = .alive
    case 2, 6: self = .zombie
    case 3: self = .stopped
    default: self = .other(value)
    }
  }

  /// True for tasks that have memory, files and the rest (alive or stopped).
  public var hasResources: Bool { self == .alive || self == .stopped }

  public var description: String {
    switch self {
    case .alive: return "Alive"
    case .stopped: return "Stopped"
    case .zombie: return "Zombie"
    case .other(let value): return "state \(value)"
    }
  }
}

/// One process of a checkpoint, from `pstree.img` and its `core-<pid>.img`.
public struct CheckpointProcess: Equatable, Sendable {
  public var pid: UInt32
  public var ppid: UInt32
  public var pgid: UInt32
  public var sid: UInt32
  /// Thread ids (meaningless for zombies, whose entry CRIU fills with garbage).
  public var threads: [UInt32]
  /// `comm` of the main thread.
  public var name: String
  public var state: TaskState
}

extension CheckpointSource {
  /// Every process, sorted by pid.
  public func processes() throws -> [CheckpointProcess] {
    try image(.pstree).messages(PstreeEntry.self).map { entry in
      let core = try image(.core(tid: entry.pid)).messages(CoreEntry.self).first ?? CoreEntry()
      return CheckpointProcess(
        pid: entry.pid, ppid: entry.ppid, pgid: entry.pgid, sid: entry.sid, threads: entry.threads,
        name: core.tc.comm, state: TaskState(core.tc.taskState))
    }.sorted { $0.pid < $1.pid }
  }

  /// The process `pid`, which must exist and have memory.
  public func processWithMemory(pid: UInt32) throws -> CheckpointProcess {
    guard let process = try processes().first(where: { $0.pid == pid }) else {
      throw MemoryAnalysisError.noSuchProcess(pid)
    }
    guard process.state.hasResources else { throw MemoryAnalysisError.noMemory(pid: pid, state: process.state) }
    return process
  }
}

/// Errors of the memory commands.
public enum MemoryAnalysisError: Error, Equatable, CustomStringConvertible {
  case noSuchProcess(UInt32)
  case noMemory(pid: UInt32, state: TaskState)
  case invalidFilter(String)
  case invalidPattern(String)

  public var description: String {
    switch self {
    case .noSuchProcess(let pid): return "no process with PID \(pid) (use `inspect --ps-tree` to view all PIDs)"
    case .noMemory(let pid, let state):
      return "process \(pid) is a \(state.description.lowercased()) task: it has no memory"
    case .invalidFilter(let reason), .invalidPattern(let reason): return reason
    }
  }
}
