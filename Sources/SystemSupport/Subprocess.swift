import Glibc

/// Runs another program and waits for it (the one this tool runs is `podman load`): standard input from
/// `/dev/null`, standard output and error merged and kept (the first 64 KiB) for a message.
public enum Subprocess {
  /// What the program did: its exit status (128 + the signal number when killed) and the start of its output.
  public struct Outcome: Sendable {
    public var status: Int32
    public var output: [UInt8]
  }

  /// Runs `executable` (a path) with `arguments` (the program's name is added as `argv[0]`).
  public static func run(_ executable: String, arguments: [String]) throws -> Outcome {
    var pipe: [Int32] = [-1, -1]
    guard Glibc.pipe(&pipe) == 0 else { throw SystemError("cannot run", path: executable) }
    for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    let reading = FileDescriptor(rawValue: pipe[0], displayPath: executable)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    close(pipe[1])
    guard spawned == 0 else { throw SystemError("cannot run", path: executable, code: spawned) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 << 10)
    while true {
      let n = (try? chunk.withUnsafeMutableBytes { try reading.read(into: $0) }) ?? 0
      if n <= 0 { break }
      if output.count < 64 << 10 { output.append(contentsOf: chunk[0..<min(n, (64 << 10) - output.count)]) }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = status & 0x7f == 0
    return Outcome(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output: output)
  }
}
