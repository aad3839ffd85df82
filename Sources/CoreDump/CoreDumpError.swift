import Archive
import CRIU
import CheckpointKit
import SystemSupport

/// Errors of `coredump`.
public enum CoreDumpError: Error, Equatable, CustomStringConvertible {
  /// An image is missing or inconsistent: `source:member: reason`.
  case badImage(source: String, member: String, reason: String)
  /// A thread's core image has no registers for the process's architecture (named by the caller).
  case noRegisters(tid: UInt32, machine: String)
  /// The images were written on an architecture cores cannot be written for.
  case unsupportedMachine(source: String, member: String, machine: String)
  /// `core.<pid>` exists and `--force` was not given.
  case exists(path: String)
  /// `--pid` names no process of the checkpoint.
  case noSuchProcess(source: String, pid: UInt32)
  /// `--pid` names a zombie, which has no memory to dump.
  case zombie(source: String, pid: UInt32)
  /// Writing a core failed (after the images were checked).
  case writing(path: String, reason: String)

  /// One line naming the file the error is about.
  public var description: String { singleLine(text) }

  private var text: String {
    switch self {
    case .badImage(let source, let member, let reason): return "\(source):\(member): \(reason)"
    case .noRegisters(let tid, let machine): return "thread \(tid) has no \(machine) registers"
    case .unsupportedMachine(let source, let member, let machine):
      return "\(source):\(member): cannot write a core for architecture \(machine) (x86-64 and aarch64 only)"
    case .exists(let path): return "\(path) already exists (use --force to replace it)"
    case .noSuchProcess(let source, let pid):
      return "\(source): no process with PID \(pid) (use `inspect --ps-tree` to view all PIDs)"
    case .zombie(let source, let pid):
      return "\(source): process \(pid) is a zombie: it has no memory, so there is no core to write"
    case .writing(let path, let reason): return "cannot write \(path): \(reason)"
    }
  }
}
