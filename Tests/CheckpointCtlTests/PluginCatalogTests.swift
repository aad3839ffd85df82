import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

@testable import checkpointctl

/// Plugin discovery, descriptions and listings, in-process on a PATH built in a temporary directory.
@Suite struct PluginCatalogTests {
  /// Writes an executable (or, with `mode`, another) shell script.
  static func script(_ path: String, _ body: String, mode: mode_t = 0o755) throws {
    try Files.write(Array("#!/bin/sh\n\(body)\n".utf8), to: path)
    chmod(path, mode)
  }

  /// Two PATH directories: `a` with every kind of plugin and non-plugin, `b` with a plugin shadowed by `a`'s.
  static func makePath(_ directory: TemporaryDirectory) throws -> String {
    let a = directory.file("a")
    let b = directory.file("b")
    mkdir(a, 0o755)
    mkdir(b, 0o755)
    try script(
      a + "/checkpointctl-hello", #"[ "$1" = --plugin-description ] && { echo "Say hello"; exit 42; }; echo hi"#)
    try script(a + "/checkpointctl-nodesc", #"[ "$1" = --plugin-description ] && exit 1; echo nodesc"#)
    try script(a + "/checkpointctl-nonexec", "echo never", mode: 0o644)
    try script(a + "/checkpointctl-show", "echo never")
    try script(a + "/checkpointctl-", "echo never")
    try script(a + "/other-tool", "echo never")
    mkdir(a + "/checkpointctl-dir", 0o755)
    symlink(a + "/missing", a + "/checkpointctl-broken")
    try script(b + "/checkpointctl-hello", "echo second")
    try script(b + "/checkpointctl-zzz", "echo zzz")
    return "\(a)::\(b):\(a)"
  }

  @Test func discoversInPathOrderAndMarksShadowedOnes() throws {
    let directory = try TemporaryDirectory()
    let catalog = PluginCatalog(searchPath: try Self.makePath(directory), builtins: ["show", "help"])
    let plugins = catalog.all()
    let a = directory.file("a")
    let b = directory.file("b")
    #expect(
      plugins == [
        Plugin(name: "hello", path: a + "/checkpointctl-hello"),
        Plugin(name: "nodesc", path: a + "/checkpointctl-nodesc"),
        Plugin(name: "show", path: a + "/checkpointctl-show", shadowing: .builtin),
        Plugin(
          name: "hello", path: b + "/checkpointctl-hello", shadowing: .earlierPlugin(path: a + "/checkpointctl-hello")),
        Plugin(name: "zzz", path: b + "/checkpointctl-zzz"),
      ])
    #expect(catalog.active().map(\.name) == ["hello", "nodesc", "zzz"])
  }

  @Test func findsOnePluginByName() throws {
    let directory = try TemporaryDirectory()
    let catalog = PluginCatalog(searchPath: try Self.makePath(directory), builtins: ["show"])
    #expect(catalog.plugin(named: "hello")?.path == directory.file("a") + "/checkpointctl-hello")
    #expect(catalog.plugin(named: "zzz")?.path == directory.file("b") + "/checkpointctl-zzz")
    for name in ["show", "nonexec", "dir", "broken", "missing", "", "-x", "../a/checkpointctl-hello", "a/b"] {
      #expect(catalog.plugin(named: name) == nil, "\(name)")
    }
  }

  @Test func relativeAndMissingPathEntries() throws {
    let directory = try TemporaryDirectory()
    _ = try Self.makePath(directory)
    let catalog = PluginCatalog(
      searchPath: "b:/does/not/exist", builtins: [], currentDirectory: directory.path)
    #expect(
      catalog.all().map(\.path) == [directory.path + "/b/checkpointctl-hello", directory.path + "/b/checkpointctl-zzz"])
    #expect(PluginCatalog(searchPath: nil, builtins: []).all().isEmpty)
    #expect(PluginCatalog(searchPath: "", builtins: []).all().isEmpty)
  }

  @Test func descriptionsFromWellAndBadlyBehavedPlugins() throws {
    let directory = try TemporaryDirectory()
    let cases: [(String, String, String?)] = [
      (
        "described", #"[ "$1" = --plugin-description ] && { printf '\n  My description  \nsecond line\n'; exit 42; }"#,
        "My description"
      ),
      ("zero", "echo text; exit 0", nil),
      ("one", "echo text; exit 1", nil),
      ("emptyanswer", "exit 42", nil),
      ("control", #"printf 'a\033[31mb\n'; exit 42"#, "a[31mb"),
      ("hangs", "sleep 30", nil),
      ("hangsafter", "echo early; sleep 30; exit 42", nil),
      ("signal", "kill -9 $$", nil),
      ("megabytes", "head -c 20000000 /dev/zero | tr '\\0' x; exit 42", String(repeating: "x", count: 199) + "…"),
      ("answersthenchildholds", "(sleep 30 &) ; echo quick; exit 42", "quick"),
    ]
    var paths: [String] = []
    for (name, body, _) in cases {
      let path = directory.file("checkpointctl-" + name)
      try Self.script(path, body)
      paths.append(path)
    }
    paths.append(directory.file("checkpointctl-absent"))
    let clock = ContinuousClock()
    let start = clock.now
    let descriptions = PluginDescription.query(paths)
    let elapsed = clock.now - start
    for (index, (name, _, expected)) in cases.enumerated() {
      #expect(descriptions[index] == expected, "\(name)")
    }
    #expect(descriptions.last == .some(nil))
    // One deadline for all of them, not 500 ms each.
    #expect(elapsed < .seconds(2))
  }

  @Test func hangingPluginsAreKilledWithTheirChildren() throws {
    let directory = try TemporaryDirectory()
    let marker = directory.file("alive")
    let path = directory.file("checkpointctl-hang")
    try Self.script(path, "sh -c 'sleep 2; touch \(marker)' & sleep 30")
    #expect(PluginDescription.query([path]) == [nil])
    Thread.sleep(forTimeInterval: 2.5)
    #expect(!FileManager.default.fileExists(atPath: marker))
  }

  @Test func listingLayout() {
    let plugins = [
      Plugin(name: "hello", path: "/a/checkpointctl-hello"),
      Plugin(name: "show", path: "/a/checkpointctl-show", shadowing: .builtin),
      Plugin(name: "hello", path: "/b/checkpointctl-hello", shadowing: .earlierPlugin(path: "/a/checkpointctl-hello")),
    ]
    #expect(PluginListing.list([], descriptions: []) == "No plugins found in PATH\n")
    #expect(
      PluginListing.list(plugins, descriptions: ["Say hello", nil, nil]) == """
        Available plugins:
          hello                Say hello
                               /a/checkpointctl-hello
          show                 (no description)
                               /a/checkpointctl-show (shadowed by the built-in show command)
          hello                (no description)
                               /b/checkpointctl-hello (shadowed by /a/checkpointctl-hello)

        """)
    let help =
      "OVERVIEW: x\n\nSUBCOMMANDS:\n  show                    Show\n\n  See 'checkpointctl help <subcommand>' for detailed help.\n"
    let section = PluginListing.helpSection(
      [plugins[0], Plugin(name: "a-very-long-plugin-name-indeed", path: "/p")], descriptions: ["Say hello", nil])
    #expect(
      PluginListing.insert(section, into: help) == """
        OVERVIEW: x

        SUBCOMMANDS:
          show                    Show

        PLUGINS:
          hello                   Say hello
          a-very-long-plugin-name-indeed
                                  Plugin provided by /p

          See 'checkpointctl help <subcommand>' for detailed help.

        """)
    #expect(PluginListing.insert("", into: help) == help)
  }
}
