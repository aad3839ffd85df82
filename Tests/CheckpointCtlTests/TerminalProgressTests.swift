import Glibc
import Testing

@testable import checkpointctl

/// The progress line: where it goes, when it is silent, and what it says.
@Suite struct ProgressLineTests {
  /// A pipe: what a test's stderr is, never a terminal.
  final class PipeOutput {
    let read: Int32
    let write: Int32

    init() throws {
      var fds: [Int32] = [0, 0]
      try #require(pipe(&fds) == 0)
      read = fds[0]
      write = fds[1]
    }

    deinit {
      close(read)
      close(write)
    }

    /// Everything written so far.
    func text() -> String { drain(read) }
  }

  /// A pseudo-terminal: TerminalProgress decides by itself to draw on it.
  final class TerminalOutput {
    let master: Int32
    let terminal: Int32

    /// Linux's `TIOCSPTLCK` and `TIOCGPTN` (the pty ioctls `unlockpt` and `ptsname` use).
    static let unlock: UInt = 0x4004_5431
    static let number: UInt = 0x8004_5430

    init() throws {
      master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
      try #require(master >= 0)
      var locked: CInt = 0
      var index: CUnsignedInt = 0
      try #require(ioctl(master, Self.unlock, &locked) == 0 && ioctl(master, Self.number, &index) == 0)
      terminal = open("/dev/pts/\(index)", O_RDWR | O_NOCTTY)
      try #require(terminal >= 0 && isatty(terminal) == 1)
    }

    deinit {
      close(terminal)
      close(master)
    }

    func text() -> String { drain(master) }
  }

  @Test func silentWhenTheOutputIsNotATerminal() throws {
    let output = try PipeOutput()
    let progress = TerminalProgress(label: "Pushing", total: 100 << 20, output: output.write)
    progress.advance(by: 50 << 20)
    progress.finish()
    #expect(output.text() == "")
  }

  @Test func enabledProgressDrawsOneRedrawnLine() throws {
    let output = try PipeOutput()
    let progress = TerminalProgress(label: "Pushing", total: 100 << 20, enabled: true, output: output.write)
    progress.advance(by: 50 << 20)
    #expect(output.text() == "\r\u{1B}[KPushing: 50.0 MiB of 100.0 MiB (50%)")
    progress.finish()
    #expect(output.text() == "\r\u{1B}[KPushing: 100.0 MiB of 100.0 MiB (100%)\n")
  }

  /// A job that fails (its reporter goes away unfinished) clears its line for the error that follows.
  @Test func anUnfinishedLineIsCleared() throws {
    let output = try PipeOutput()
    do {
      let progress = TerminalProgress(label: "Pushing", total: 100 << 20, enabled: true, output: output.write)
      progress.advance(by: 10 << 20)
    }
    #expect(output.text() == "\r\u{1B}[KPushing: 10.0 MiB of 100.0 MiB (10%)\r\u{1B}[K")
    do {
      let progress = TerminalProgress(label: "Pushing", total: 100 << 20, enabled: true, output: output.write)
      progress.advance(by: 10 << 20)
      progress.finish()
    }
    #expect(output.text().hasSuffix("(100%)\n"))
  }

  @Test func aJobOfUnknownSizeShowsOnlyOnceItIsLarge() throws {
    let output = try PipeOutput()
    let small = TerminalProgress(label: "Building", total: nil, enabled: true, output: output.write)
    small.advance(by: 1 << 20)
    small.finish()
    #expect(output.text() == "")
    let large = TerminalProgress(label: "Building", total: nil, enabled: true, output: output.write)
    large.advance(by: 70 << 20)
    large.finish()
    #expect(output.text() == "\r\u{1B}[KBuilding: 70.0 MiB\r\u{1B}[KBuilding: 70.0 MiB\n")
  }

  @Test func aTerminalGetsTheLineOnlyForLargeJobs() throws {
    let output = try TerminalOutput()
    let small = TerminalProgress(label: "Extracting", total: 1 << 20, output: output.terminal)
    small.advance(by: 1 << 20)
    small.finish()
    #expect(output.text() == "")
    let large = TerminalProgress(label: "Extracting", total: 80 << 20, output: output.terminal)
    large.advance(by: 20 << 20)
    large.finish()
    let screen = output.text()
    #expect(screen.contains("Extracting: 20.0 MiB of 80.0 MiB (25%)"), "\(screen)")
    #expect(screen.contains("Extracting: 80.0 MiB of 80.0 MiB (100%)"), "\(screen)")
  }
}

/// Reads what is available on `fd`, waiting at most a moment for more.
private func drain(_ fd: Int32) -> String {
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 4096)
  while true {
    var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&waiting, 1, 200) == 1, waiting.revents & Int16(POLLIN) != 0 else { break }
    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
    if n <= 0 { break }
    bytes += buffer[0..<n]
  }
  return String(decoding: bytes, as: UTF8.self)
}
