import Glibc
import SystemSupport

/// An external command: an executable `checkpointctl-<name>` found on `PATH` that runs as `checkpointctl <name>`.
public struct Plugin: Equatable, Sendable {
  /// The file name prefix that makes an executable a plugin.
  public static let prefix = "checkpointctl-"

  /// Why a plugin does not run under its name.
  public enum Shadowing: Equatable, Sendable {
    /// A built-in command has the same name.
    case builtin
    /// A plugin of the same name comes earlier on `PATH`; its path.
    case earlierPlugin(path: String)
  }

  /// The sub-command name (`hello` for `checkpointctl-hello`).
  public var name: String
  /// The absolute path of the executable.
  public var path: String
  /// Why `checkpointctl <name>` does not run this plugin; `nil` when it does.
  public var shadowing: Shadowing?

  /// Creates a plugin entry.
  public init(name: String, path: String, shadowing: Shadowing? = nil) {
    self.name = name
    self.path = path
    self.shadowing = shadowing
  }

  /// True when `checkpointctl <name>` runs this plugin.
  public var isActive: Bool { shadowing == nil }

  /// True when `name` can be a plugin's name: not empty, no `/`, no control characters, not a flag.
  public static func isValidName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first != "-" else { return false }
    return !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F }
  }

  /// Replaces this process with the plugin, passing `arguments` unparsed (`argv[0]` is the plugin's path, as
  /// upstream's `syscall.Exec`); the plugin's exit status and signals are then its own. Returns only on failure.
  public func execute(arguments: [String]) -> SystemError {
    var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
    argv.append(nil)
    execv(path, argv)
    let error = SystemError("cannot run plugin", path: path)
    for pointer in argv { free(pointer) }
    return error
  }
}
