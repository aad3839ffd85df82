import CheckpointKit
import Foundation
import Glibc
import TestSupport
import Testing

/// Runs a shell command line (arguments as `$1`, `$2`…) with standard output and standard error merged.
private func shell(_ script: String, _ arguments: [String] = [], in directory: String? = nil) throws -> (
  status: Int32, output: String
) {
  try Tool.runMerged("/bin/sh", ["-c", script, "sh"] + arguments, in: directory)
}

/// The manual pages `make man` writes, read with man-db.
@Suite struct ManualTests {
  static let pages = [
    "checkpointctl", "checkpointctl-show", "checkpointctl-extract", "checkpointctl-insert", "checkpointctl-list",
    "checkpointctl-inspect", "checkpointctl-memparse", "checkpointctl-decode", "checkpointctl-encode",
    "checkpointctl-completion", "checkpointctl-plugin", "checkpointctl-plugin-list",
  ]

  @Test func onePagePerCommandRenderedWithoutWarnings() throws {
    let directory = try TemporaryDirectory()
    let result = try CLI.run(["generate-manual", directory.file("man")])
    #expect(result.status == 0, "\(result.stderr)")
    let written = try FileManager.default.contentsOfDirectory(atPath: directory.file("man"))
    for page in Self.pages { #expect(written.contains(page + ".1"), "\(page)") }
    #expect(!written.contains { $0.contains("generate-manual") || $0.contains("-help.") })
    for name in written {
      let file = directory.file("man/" + name)
      let warnings = try shell(#"MANWIDTH=80 man -l --warnings "$1" 2>&1 >/dev/null"#, [file])
      #expect(warnings.status == 0 && warnings.output == "", "\(name): \(warnings.output)")
      let text = try shell(#"MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$1" | col -b"#, [file]).output
      for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"] {
        #expect(text.contains("\n" + section + "\n"), "\(name) lacks \(section)")
      }
    }
  }

  @Test func pagesSayWhatHelpSays() throws {
    let directory = try TemporaryDirectory()
    #expect(try CLI.run(["generate-manual", directory.path]).status == 0)
    let show = try shell(#"MANWIDTH=200 man -l "$1" | col -b"#, [directory.file("checkpointctl-show.1")]).output
    #expect(show.contains("checkpointctl-show - Show information about available checkpoints"))
    #expect(show.contains("checkpointctl show [--target <dir|archive>] [--show-pod-uid] [--format <format>]"))
    #expect(show.contains("-t, --target <dir|archive>"))
    #expect(show.contains("Output format: table or json (values: table, json; default: table)"))
    #expect(show.contains("$ checkpointctl show /tmp/checkpoint.tar"))
    let root = try shell(#"MANWIDTH=200 man -l "$1" | col -b"#, [directory.file("checkpointctl.1")]).output
    #expect(root.contains("checkpointctl-plugin(1)"))
    #expect(root.contains("PLUGINS\n"))
    #expect(root.contains("the exit status, or the signal, is the plugin's"))
    let list = try shell(#"MANWIDTH=200 man -l "$1" | col -b"#, [directory.file("checkpointctl-plugin-list.1")]).output
    #expect(list.contains("checkpointctl plugin list"))
    #expect(list.contains("checkpointctl-plugin(1)"))
  }

  @Test func unwritableDirectoryIsOneErrorLine() throws {
    let result = try CLI.run(["generate-manual", "/proc/no/such/dir"])
    #expect(result.status == 1)
    #expect(result.stderr == "Error: cannot create /proc/no/such/dir: no such file or directory\n")
  }
}

/// The completion scripts, loaded into real shells.
@Suite struct CompletionTests {
  /// Sources the bash script and prints what completing each line (words separated by spaces, the last one
  /// being completed) offers, one line each.
  static func bashCompletions(_ lines: [String], path: String) throws -> [String] {
    let script = """
      source <("$1" completion bash) || exit 1
      complete -p checkpointctl
      shift
      for line in "$@"; do
        read -r -a COMP_WORDS <<< "$line"
        [[ "$line" == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$line"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
        spec=$(complete -p checkpointctl); function=${spec##*-F }; function=${function%% *}
        "$function" checkpointctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        echo "${COMPREPLY[*]}"
      done
      """
    let result = try Tool.runMerged(
      "/usr/bin/env", ["PATH=\(path)", "bash", "-c", script, "bash", CLI.binary] + lines)
    #expect(result.status == 0, "\(result.output)")
    return result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  @Test func bashCompletesCommandsFlagsValuesPluginsAndFiles() throws {
    let directory = try TemporaryDirectory()
    try Files.write(Array("#!/bin/sh\necho hi\n".utf8), to: directory.file("checkpointctl-hello"))
    chmod(directory.file("checkpointctl-hello"), 0o755)
    try Files.write(Array("#!/bin/sh\n".utf8), to: directory.file("checkpointctl-show"))
    chmod(directory.file("checkpointctl-show"), 0o755)
    let output = try Self.bashCompletions(
      [
        "checkpointctl ", "checkpointctl he", "checkpointctl show --f", "checkpointctl show --format ",
        "checkpointctl inspect --ps", "checkpointctl memparse -", "checkpointctl completion ",
        "checkpointctl plugin ", "checkpointctl hello ",
      ], path: directory.path + ":/usr/bin:/bin")
    try #require(output.count >= 10)
    // `-o default`: file names wherever nothing else is offered (checkpoint archives, directories, plugin args).
    #expect(
      output[0].hasPrefix("complete ") && output[0].contains("-o default") && output[0].hasSuffix(" checkpointctl"))
    let top = Set(output[1].split(separator: " ").map(String.init))
    for command in [
      "show", "extract", "insert", "list", "inspect", "memparse", "decode", "encode", "completion",
      "plugin", "help", "hello", "--help",
    ] {
      #expect(top.contains(command), "\(command)")
    }
    #expect(!top.contains("generate-manual"))
    #expect(output[1].split(separator: " ").filter { $0 == "show" }.count == 1)
    #expect(Set(output[2].split(separator: " ")) == ["help", "hello"])
    #expect(output[3] == "--format")
    #expect(output[4] == "table json")
    #expect(Set(output[5].split(separator: " ")) == ["--ps-tree", "--ps-tree-cmd", "--ps-tree-env"])
    #expect(output[6].contains("--search-regex") && output[6].contains("--pid") && output[6].contains("-h"))
    #expect(output[7] == "bash zsh fish")
    #expect(output[8].split(separator: " ").contains("list"))
    #expect(output[9] == "")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh")))
  func zshScriptLoads() throws {
    let result = try Tool.runMerged(
      "/usr/bin/zsh",
      [
        "-f", "-c",
        #"autoload -U compinit && compinit -u -D && source <("$1" completion zsh) && echo ${_comps[checkpointctl]}"#,
        "zsh", CLI.binary,
      ])
    #expect(result.output == "_checkpointctl\n")
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/fish")))
  func fishCompletesPluginsAndFiles() throws {
    let directory = try TemporaryDirectory()
    try Files.write(Array("#!/bin/sh\necho hi\n".utf8), to: directory.file("checkpointctl-hello"))
    chmod(directory.file("checkpointctl-hello"), 0o755)
    try Files.write([], to: directory.file("archive.tar"))
    let script = #"""
      "$argv[1]" completion fish | source
      complete -C 'checkpointctl he'
      echo ---
      complete -C 'checkpointctl show --format '
      echo ---
      complete -C 'checkpointctl show arch'
      echo ---
      complete -C 'checkpointctl hello arch'
      """#
    let result = try Tool.runMerged(
      "/usr/bin/env",
      [
        "HOME=\(directory.path)", "PATH=\(directory.path):/usr/bin:/bin", "fish", "--no-config", "-c",
        "cd \(directory.path); " + script, CLI.binary,
      ])
    let parts = result.output.components(separatedBy: "---\n")
    try #require(parts.count == 4, "\(result.output)")
    #expect(parts[0].contains("hello\t") && parts[0].contains("help\t"))
    #expect(parts[1].contains("table") && parts[1].contains("json"))
    #expect(parts[2].contains("archive.tar"))
    #expect(parts[3].contains("archive.tar"))
  }
}

/// `make install` and `make uninstall` into a staging directory, with the binary under test.
@Suite struct InstallTests {
  @Test func installThenUninstallLeavesNothing() throws {
    let stage = try TemporaryDirectory()
    let generated = try TemporaryDirectory()
    let root = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().deletingLastPathComponent().path
    let variables = ["DESTDIR=\(stage.path)", "BIN=\(CLI.binary)", "GENDIR=\(generated.path)", "PREFIX=/usr"]
    try Tool.run("make", ["--no-print-directory", "install"] + variables, in: root)
    let installed = try FileManager.default.subpathsOfDirectory(atPath: stage.path).sorted()
    for path in [
      "usr/bin/checkpointctl", "usr/share/man/man1/checkpointctl.1", "usr/share/man/man1/checkpointctl-show.1",
      "usr/share/man/man1/checkpointctl-plugin-list.1", "usr/share/bash-completion/completions/checkpointctl",
      "usr/share/zsh/site-functions/_checkpointctl", "usr/share/fish/vendor_completions.d/checkpointctl.fish",
    ] {
      #expect(installed.contains(path), "\(path)")
    }
    #expect(Files.permissions(stage.file("usr/bin/checkpointctl")) == 0o755)
    #expect(Files.permissions(stage.file("usr/share/man/man1/checkpointctl.1")) == 0o644)
    let version = try Tool.runMerged(stage.file("usr/bin/checkpointctl"), ["--version"])
    #expect(version.output.hasPrefix("checkpointctl version "))
    // A file of someone else's in a shared directory stays.
    try Files.write([1], to: stage.file("usr/share/man/man1/other.1"))
    try Tool.run("make", ["--no-print-directory", "uninstall"] + variables, in: root)
    #expect(
      try FileManager.default.subpathsOfDirectory(atPath: stage.path) == [
        "usr", "usr/share", "usr/share/man", "usr/share/man/man1", "usr/share/man/man1/other.1",
      ])
    unlink(stage.file("usr/share/man/man1/other.1"))
    try Tool.run("make", ["--no-print-directory", "install"] + variables, in: root)
    try Tool.run("make", ["--no-print-directory", "uninstall"] + variables, in: root)
    #expect(try FileManager.default.subpathsOfDirectory(atPath: stage.path) == [])
  }
}
