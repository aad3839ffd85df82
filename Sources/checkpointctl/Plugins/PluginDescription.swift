import Glibc
import SystemSupport

/// Asks plugins for their one-line description, upstream's protocol: run `PLUGIN --plugin-description`; exit
/// status 42 means supported and the first line of standard output is the text. Anything else (another status, a
/// signal, no answer within the timeout) means none. All plugins are asked at once, each in its own process group
/// with standard input and standard error on `/dev/null`; whatever is still running at the deadline is killed with
/// its children. At most `keptBytes` of output are kept, the rest is read and dropped, so a plugin that writes
/// megabytes neither blocks nor costs memory.
public enum PluginDescription {
  /// The flag a plugin is asked with.
  public static let flag = "--plugin-description"
  /// The exit status that says the plugin supports `--plugin-description`.
  public static let supportedStatus: Int32 = 42
  /// How long plugins have to answer (upstream's 500 ms).
  public static let timeout: Duration = .milliseconds(500)
  /// How much of a plugin's output is kept.
  static let keptBytes = 4096
  /// Longer descriptions are cut to this many characters, the last one an ellipsis.
  static let longestDescription = 200

  /// The text shown for a plugin that gives no description (`--help`, upstream's phrase).
  public static func fallback(for plugin: Plugin) -> String { "Plugin provided by \(plugin.path)" }

  /// The description of each of `paths` (`nil` when none), in the same order.
  public static func query(_ paths: [String], timeout: Duration = timeout) -> [String?] {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var queries = paths.map { Query(path: $0) }
    while clock.now < deadline, queries.contains(where: { !$0.isDone }) {
      var descriptors = queries.filter { $0.descriptor >= 0 }.map {
        pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0)
      }
      // Exits are noticed by polling waitpid, so sleep at most 5 ms at a time.
      let remaining = (deadline - clock.now).components
      let milliseconds = remaining.seconds * 1000 + remaining.attoseconds / 1_000_000_000_000_000 + 1
      _ = poll(&descriptors, nfds_t(descriptors.count), Int32(min(5, max(0, milliseconds))))
      for index in queries.indices { queries[index].step() }
    }
    return queries.indices.map { queries[$0].finish() }
  }

  /// The description text in a plugin's output: its first non-blank line, trimmed, control characters dropped,
  /// at most `longestDescription` characters.
  static func firstLine(of output: [UInt8]) -> String? {
    let text = String(decoding: output, as: UTF8.self)
    let line = text.split(whereSeparator: \.isNewline).lazy
      .map { $0.trimmingCharacters() }
      .first { !$0.isEmpty }
    guard let line else { return nil }
    let cleaned = String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    guard !cleaned.isEmpty else { return nil }
    return cleaned.count > longestDescription ? cleaned.prefix(longestDescription - 1) + "…" : cleaned
  }

  /// One running `PLUGIN --plugin-description`.
  struct Query {
    var process: pid_t = -1
    var descriptor: Int32 = -1
    var output: [UInt8] = []
    var status: Int32?

    init(path: String) {
      var ends: [Int32] = [-1, -1]
      guard pipe(&ends) == 0 else { return }
      // Close-on-exec on both ends: another plugin started meanwhile must not hold this pipe open.
      for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
      _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
      process = PluginDescription.spawn(path, standardOutput: ends[1])
      close(ends[1])
      if process > 0 { descriptor = ends[0] } else { close(ends[0]) }
    }

    /// True when nothing more is to be learnt: the plugin has exited and either its status says no description
    /// or its output is read to the end. (A child left holding the pipe open makes this wait for the deadline;
    /// what was read by then counts.)
    var isDone: Bool {
      guard process > 0 else { return true }
      guard let status else { return false }
      return PluginDescription.exitStatus(status) != PluginDescription.supportedStatus || descriptor < 0
    }

    /// Reads what is there and notices an exit, without blocking.
    mutating func step() {
      if descriptor >= 0 { drain() }
      if process > 0, status == nil {
        var raw: Int32 = 0
        if waitpid(process, &raw, WNOHANG) == process { status = raw }
      }
    }

    mutating func drain() {
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count > 0 {
          let room = PluginDescription.keptBytes - output.count
          if room > 0 { output += buffer[0..<min(room, count)] }
          continue
        }
        if count < 0 && errno == EINTR { continue }
        if count == 0 || errno != EAGAIN {
          close(descriptor)
          descriptor = -1
        }
        return
      }
    }

    /// Kills the plugin and its children if it is still running, and gives the description.
    mutating func finish() -> String? {
      if descriptor >= 0 {
        close(descriptor)
        descriptor = -1
      }
      guard process > 0 else { return nil }
      if status == nil {
        kill(-process, SIGKILL)
        kill(process, SIGKILL)
        var raw: Int32 = 0
        while waitpid(process, &raw, 0) < 0 && errno == EINTR {}
        return nil
      }
      guard let status, PluginDescription.exitStatus(status) == PluginDescription.supportedStatus else { return nil }
      return PluginDescription.firstLine(of: output)
    }
  }

  /// The exit status in a `waitpid` status, `nil` when the process died on a signal.
  static func exitStatus(_ raw: Int32) -> Int32? {
    raw & 0x7F == 0 ? (raw >> 8) & 0xFF : nil
  }

  /// Starts `path --plugin-description` in a new process group with standard output on `standardOutput`,
  /// default signal handling and an empty signal mask. Returns the pid, or -1.
  static func spawn(_ path: String, standardOutput: Int32) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    var attributes = posix_spawnattr_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawnattr_init(&attributes)
    defer {
      posix_spawn_file_actions_destroy(&actions)
      posix_spawnattr_destroy(&attributes)
    }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var everySignal = sigset_t()
    var noSignal = sigset_t()
    sigfillset(&everySignal)
    sigemptyset(&noSignal)
    posix_spawnattr_setsigdefault(&attributes, &everySignal)
    posix_spawnattr_setsigmask(&attributes, &noSignal)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(flag), nil]
    defer { for pointer in argv { free(pointer) } }
    var process: pid_t = 0
    guard posix_spawn(&process, path, &actions, &attributes, &argv, environ) == 0 else { return -1 }
    return process
  }
}

extension Substring {
  /// The text without leading and trailing white space.
  fileprivate func trimmingCharacters() -> Substring {
    let start = firstIndex { !$0.isWhitespace } ?? endIndex
    let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
    return start < end ? self[start..<end] : ""
  }
}
