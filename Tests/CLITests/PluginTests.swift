import CheckpointKit
import Foundation
import Glibc
import TestSupport
import Testing

/// Plugins through the built binary: discovery, `plugin list`, `--help`, and exec semantics.
@Suite struct PluginTests {
  /// A PATH of two plugin directories (every kind of good and bad plugin) then the system's.
  final class PluginPath {
    let directory: TemporaryDirectory
    let first: String
    let second: String
    var path: String { "\(first):\(second):/usr/bin:/bin" }
    var environment: [String: String] { ["PATH": path] }

    init() throws {
      directory = try TemporaryDirectory()
      first = directory.file("first")
      second = directory.file("second")
      mkdir(first, 0o755)
      mkdir(second, 0o755)
      try script("first/checkpointctl-hello", #"echo "Hello from plugin!"; echo "Args: $*"; echo "argc: $#""#)
      try script(
        "first/checkpointctl-described",
        #"if [ "$1" = --plugin-description ]; then echo "My custom plugin description"; exit 42; fi; echo running"#)
      try script(
        "first/checkpointctl-nodesc", #"case "$1" in --plugin-description) exit 1;; esac; echo "Just a plugin""#)
      try script("first/checkpointctl-nonexec", "echo should not appear", mode: 0o644)
      try script("first/checkpointctl-show", "echo This should not run")
      try script("first/checkpointctl-dupe", "echo first")
      try script("second/checkpointctl-dupe", "echo second")
      try script("first/checkpointctl-hang", "sleep 30")
      try script("first/checkpointctl-status", #"[ "$1" = --plugin-description ] && kill -9 $$; exit "$1""#)
      try script("first/checkpointctl-flood", "yes flood | head -c 30000000; exit 42")
      mkdir(first + "/checkpointctl-directory", 0o755)
      symlink(first + "/gone", first + "/checkpointctl-broken")
    }

    func script(_ name: String, _ body: String, mode: mode_t = 0o755) throws {
      try Files.write(Array("#!/bin/sh\n\(body)\n".utf8), to: directory.file(name))
      chmod(directory.file(name), mode)
    }
  }

  @Test func noPlugins() throws {
    let empty = try TemporaryDirectory()
    let result = try CLI.run(["plugin", "list"], environment: ["PATH": empty.path])
    #expect(result.status == 0)
    #expect(result.stdout == "No plugins found in PATH\n")
  }

  @Test func listShowsEveryPluginWithItsDescriptionAndPath() throws {
    let plugins = try PluginPath()
    let start = ContinuousClock.now
    let result = try CLI.run(["plugin", "list"], environment: plugins.environment)
    #expect(ContinuousClock.now - start < .seconds(3))
    #expect(result.status == 0)
    #expect(result.stderr == "")
    let f = plugins.first
    let s = plugins.second
    let pad = String(repeating: " ", count: 21)
    #expect(
      result.stdout == """
        Available plugins:
          described            My custom plugin description
          \(pad)\(f)/checkpointctl-described
          dupe                 (no description)
          \(pad)\(f)/checkpointctl-dupe
          flood                flood
          \(pad)\(f)/checkpointctl-flood
          hang                 (no description)
          \(pad)\(f)/checkpointctl-hang
          hello                (no description)
          \(pad)\(f)/checkpointctl-hello
          nodesc               (no description)
          \(pad)\(f)/checkpointctl-nodesc
          show                 (no description)
          \(pad)\(f)/checkpointctl-show (shadowed by the built-in show command)
          status               (no description)
          \(pad)\(f)/checkpointctl-status
          dupe                 (no description)
          \(pad)\(s)/checkpointctl-dupe (shadowed by \(f)/checkpointctl-dupe)

        """)
  }

  @Test func rootHelpListsPluginsUnderTheirOwnHeading() throws {
    let plugins = try PluginPath()
    for arguments in [["--help"], ["-h"], ["help"], []] {
      let result = try CLI.run(arguments, environment: plugins.environment)
      #expect(result.status == 0)
      let section = try #require(result.stdout.range(of: "\nPLUGINS:\n")).upperBound
      let lines = result.stdout[section...].split(separator: "\n").prefix {
        $0.hasPrefix("  ") && !$0.contains("See '")
      }
      #expect(lines.contains { $0.hasPrefix("  described ") && $0.hasSuffix("My custom plugin description") })
      #expect(lines.contains { $0.hasSuffix("Plugin provided by \(plugins.first)/checkpointctl-nodesc") })
      #expect(!lines.contains { $0.hasPrefix("  show ") })
      #expect(lines.count == 7, "\(lines)")
      #expect(result.stdout.hasSuffix("  See 'checkpointctl help <subcommand>' for detailed help.\n"))
    }
    // A sub-command's help runs no plugin and lists none.
    let show = try CLI.run(["show", "--help"], environment: plugins.environment)
    #expect(!show.stdout.contains("PLUGINS:"))
  }

  @Test func pluginRunsWithItsArgumentsUnparsed() throws {
    let plugins = try PluginPath()
    let result = try CLI.run(
      ["hello", "world", "--flag", "-h", "--help", "two words", ""], environment: plugins.environment)
    #expect(result.status == 0)
    #expect(result.stdout == "Hello from plugin!\nArgs: world --flag -h --help two words \nargc: 6\n")
  }

  @Test func exitStatusAndSignalsAreThePlugins() throws {
    let plugins = try PluginPath()
    for status in [0, 3, 42, 255] {
      #expect(try CLI.run(["status", String(status)], environment: plugins.environment).status == Int32(status))
    }
    let killed = try CLI.run(["status", "--plugin-description"], environment: plugins.environment)
    #expect(killed.signaled)
    #expect(killed.status == SIGKILL)
  }

  @Test func firstInPathWinsAndBuiltinsWin() throws {
    let plugins = try PluginPath()
    #expect(try CLI.run(["dupe"], environment: plugins.environment).stdout == "first\n")
    let show = try CLI.run(["show", "/does-not-exist"], environment: plugins.environment)
    #expect(show.status == 1)
    #expect(!show.stdout.contains("This should not run"))
    #expect(show.stderr.hasPrefix("Error: "))
  }

  @Test func nonPluginsAreUnknownCommands() throws {
    let plugins = try PluginPath()
    for name in ["nonexec", "directory", "broken", "missing"] {
      let result = try CLI.run([name], environment: plugins.environment)
      #expect(result.status == 1, "\(name)")
      #expect(result.stdout == "", "\(name)")
      #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(name), "\(name): \(result.stderr)")
    }
  }
}
