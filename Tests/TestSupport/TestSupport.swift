import Archive
import Foundation
import Glibc
import SystemSupport

/// Paths of the committed test fixtures.
public enum Fixtures {
  /// `Tests/Fixtures`.
  public static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()  // TestSupport
    url.deleteLastPathComponent()  // Tests
    return url.appendingPathComponent("Fixtures").path
  }()

  /// A file or directory below `Tests/Fixtures`.
  public static func path(_ name: String) -> String { root + "/" + name }

  /// The bundled example kubelet store (two pods, three containers).
  public static var kubeletStore: String { path("kubelet-store") }

  /// A golden file's expected text; with `CHECKPOINTCTL_RECORD_GOLDEN=1` the actual text is recorded instead.
  public static func golden(_ name: String, actual: String) throws -> String {
    let file = path("golden/" + name)
    if ProcessInfo.processInfo.environment["CHECKPOINTCTL_RECORD_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(
        atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try actual.write(toFile: file, atomically: true, encoding: .utf8)
    }
    return try String(contentsOfFile: file, encoding: .utf8)
  }
}

/// A fresh private directory, removed when released.
public final class TemporaryDirectory {
  /// Its path.
  public let path: String

  public init() throws {
    var template = Array((NSTemporaryDirectory() + "/checkpointctl-test.XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw SystemError("cannot create", path: "temporary directory")
    }
    path = String(cString: made)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// A path inside the directory.
  public func file(_ name: String) -> String { path + "/" + name }
}

/// Test-side file helpers.
public enum Files {
  /// The bytes of a file.
  public static func read(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// Writes bytes to a file.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// Copies a directory tree.
  public static func copyTree(_ source: String, to destination: String) throws {
    try FileManager.default.copyItem(atPath: source, toPath: destination)
  }

  /// Every file below `directory` with its bytes and modification time: a snapshot to compare before and after.
  public static func snapshot(_ directory: String) throws -> [String: ([UInt8], Int)] {
    var result: [String: ([UInt8], Int)] = [:]
    let names = try FileManager.default.subpathsOfDirectory(atPath: directory)
    for name in names {
      var info = stat()
      lstat(directory + "/" + name, &info)
      let bytes = info.st_mode & S_IFMT == S_IFREG ? try read(directory + "/" + name) : []
      result[name] = (bytes, Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }
    return result
  }

  /// True when two snapshots hold the same names, bytes and times.
  public static func same(_ a: [String: ([UInt8], Int)], _ b: [String: ([UInt8], Int)]) -> Bool {
    a.count == b.count && a.allSatisfy { key, value in b[key].map { $0.0 == value.0 && $0.1 == value.1 } ?? false }
  }

  /// The permission bits of a path.
  public static func permissions(_ path: String) -> mode_t {
    var info = stat()
    stat(path, &info)
    return info.st_mode & 0o7777
  }
}

extension Files {
  /// A FIFO in `directory` that a background thread fills with `bytes` once a reader opens it: a file that can
  /// only be read in order, like `<(cat archive)`.
  public static func fifo(named name: String, in directory: TemporaryDirectory, feeding bytes: [UInt8]) throws
    -> String
  {
    let path = directory.file(name)
    guard mkfifo(path, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
    // A reader may stop before the end (trailing padding); the writer then gets EPIPE, not a fatal signal.
    signal(SIGPIPE, SIG_IGN)
    Thread {
      // Close-on-exec: a command started meanwhile by another test must not hold the write end open.
      let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else { return }
      defer { Glibc.close(fd) }
      bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count, let base = buffer.baseAddress {
          let n = Glibc.write(fd, base + done, buffer.count - done)
          if n <= 0 { break }
          done += n
        }
      }
    }.start()
    return path
  }
}

/// Builds tar archives for tests with the project's own writer.
public struct TestArchive: Sendable {
  /// One member to write.
  public enum Member: Sendable {
    case file(String, [UInt8])
    case directory(String)
    case symlink(String, to: String)
    case hardLink(String, to: String)
    case special(String, ArchiveEntry.Kind)
  }

  /// Writes `members` to `path` with `compression`.
  public static func write(_ members: [Member], to path: String, compression: ArchiveFilter = .none) throws {
    let file = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
    let writer = try ArchiveWriter(descriptor: file, compression: compression)
    for member in members {
      switch member {
      case .file(let name, let bytes):
        try writer.addFile(named: name, bytes: bytes, modificationTime: 1_700_000_000)
      case .directory(let name):
        try writer.writeHeader(ArchiveEntry(path: name, kind: .directory, permissions: 0o755))
      case .symlink(let name, let target):
        try writer.writeHeader(ArchiveEntry(path: name, kind: .symbolicLink, permissions: 0o777, linkTarget: target))
      case .hardLink(let name, let target):
        try writer.writeHeader(ArchiveEntry(path: name, kind: .hardLink, linkTarget: target))
      case .special(let name, let kind):
        try writer.writeHeader(ArchiveEntry(path: name, kind: kind))
      }
    }
    try writer.finish()
    try file.close()
  }

  /// Copies the archive `fixture` to `path` (with `compression`), each regular member through `change` (`nil`
  /// drops it), directories as they are, then `extra`: a tampered copy of a real checkpoint.
  public static func copy(
    _ fixture: String, to path: String, compression: ArchiveFilter = .none, extra: [Member] = [],
    change: (String, [UInt8]) -> Member? = { .file($0, $1) }
  ) throws {
    var members: [Member] = []
    for (entry, bytes) in try read(fixture) {
      switch entry.kind {
      case .directory: members.append(.directory(entry.path))
      case .regular: if let member = change(entry.path, bytes) { members.append(member) }
      default: continue
      }
    }
    try write(members + extra, to: path, compression: compression)
  }

  /// Reads every member of an archive: name → data (directories and links map to empty data).
  public static func read(_ path: String) throws -> [(ArchiveEntry, [UInt8])] {
    let reader = try ArchiveReader(path: path)
    var result: [(ArchiveEntry, [UInt8])] = []
    while let entry = try reader.next() {
      result.append((entry, try reader.readAll(limit: 1 << 30, member: entry.path)))
    }
    return result
  }
}

/// Deterministic pseudo-random bytes (xorshift), for test data that does not compress away.
public func pseudoRandomBytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
  var state = seed
  var bytes = [UInt8](repeating: 0, count: count)
  for index in 0..<count {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    bytes[index] = UInt8(truncatingIfNeeded: state)
  }
  return bytes
}

/// The result of running the built `checkpointctl`.
public struct CommandResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
  public var stdoutBytes: [UInt8]
  /// True when the process was killed by a signal (a trap, an abort) instead of exiting.
  public var signaled: Bool
}

/// Runs the built `checkpointctl` binary.
public enum CLI {
  /// The binary: `$CHECKPOINTCTL_BIN`, else the one built beside the test bundle.
  public static let binary: String = {
    if let path = ProcessInfo.processInfo.environment["CHECKPOINTCTL_BIN"] { return path }
    let directory = Bundle.main.bundleURL.deletingLastPathComponent()
    for candidate in [directory, Bundle.main.bundleURL] {
      let path = candidate.appendingPathComponent("checkpointctl").path
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return Fixtures.root + "/../../.build/debug/checkpointctl"
  }()

  /// Runs `checkpointctl arguments…` in `directory` and waits for it.
  public static func run(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
  ) throws -> CommandResult {
    let process = try start(arguments, in: directory, environment: environment)
    return process.wait()
  }

  /// Starts `checkpointctl arguments…` without waiting.
  public static func start(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
  ) throws -> RunningCommand {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return RunningCommand(process: process, out: out, err: err)
  }
}

/// Everything a pipe's writers write until they all close it, read with `read(2)` (Foundation's
/// `readDataToEndOfFile` leaks its buffer under AddressSanitizer now and then, failing `make sanitize`).
func readToEnd(_ pipe: Pipe) -> [UInt8] {
  let descriptor = pipe.fileHandleForReading.fileDescriptor
  // Data appends with memcpy even in a debug build, where appending array slices goes byte by byte.
  var bytes = Data()
  let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
  defer { chunk.deallocate() }
  while true {
    let count = Glibc.read(descriptor, chunk.baseAddress, chunk.count)
    if count > 0 {
      bytes.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]).bindMemory(to: UInt8.self))
    } else if count == 0 || errno != EINTR {
      return bytes.withUnsafeBytes { [UInt8]($0) }
    }
  }
}

/// A started `checkpointctl`; its output is collected in the background so a full pipe never blocks it.
public final class RunningCommand: @unchecked Sendable {
  public let process: Process
  private var outBytes: [UInt8] = []
  private var errBytes: [UInt8] = []
  private let group = DispatchGroup()

  init(process: Process, out: Pipe, err: Pipe) {
    self.process = process
    group.enter()
    DispatchQueue.global().async {
      self.outBytes = readToEnd(out)
      self.group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      self.errBytes = readToEnd(err)
      self.group.leave()
    }
  }

  /// Sends `SIGKILL`.
  public func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

  /// Waits for the process and its output.
  public func wait() -> CommandResult {
    process.waitUntilExit()
    group.wait()
    return CommandResult(
      status: process.terminationStatus, stdout: String(decoding: outBytes, as: UTF8.self),
      stderr: String(decoding: errBytes, as: UTF8.self), stdoutBytes: outBytes,
      signaled: process.terminationReason == .uncaughtSignal)
  }
}

extension CLI {
  /// Runs `checkpointctl arguments…` with standard output and standard error on one pipe, as a terminal or
  /// `2>&1` shows them: the order of lines across the two streams is what a user sees.
  public static func runMerged(_ arguments: [String], in directory: String? = nil) throws -> (
    status: Int32, output: String
  ) {
    try Tool.runMerged(binary, arguments, in: directory)
  }
}

/// Runs other programs (`tar`, `zstd`), as independent references and to build inputs the way users build them.
public enum Tool {
  /// Runs `executable` (a path, or a name looked up in `PATH`) and fails unless it exits 0.
  @discardableResult
  public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> String {
    let result = try runMerged(executable, arguments, in: directory)
    guard result.status == 0 else {
      throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(result.output)")
    }
    return result.output
  }

  /// A program that did not exit 0.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Runs `executable` with standard output and standard error on one pipe.
  public static func runMerged(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (
    status: Int32, output: String
  ) {
    let process = Process()
    if executable.contains("/") {
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [executable] + arguments
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let output = readToEnd(pipe)
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
  }
}
