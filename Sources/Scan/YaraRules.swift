import CYara
import CYaraLoader
import Glibc
import SystemSupport

/// YARA rules compiled by libyara from rule files (`scan --rules FILE|DIR`).
public final class YaraRules: @unchecked Sendable {
  let rules: UnsafeMutablePointer<YR_RULES>
  /// The rule files compiled, in the order given (a directory's `*.yar` and `*.yara` files by name).
  public let files: [String]
  /// Warnings libyara gave while compiling (a string that slows scanning, …), each naming its file and line.
  public let warnings: [String]

  /// Why libyara cannot be used (not installed, …), from loading it when rules are first compiled; `nil` when it
  /// is ready.
  private static let unavailable: String? = cy_load().map { String(cString: $0) }

  /// Compiles every rule file given: a file, or a directory's `*.yar` and `*.yara` files (not its subdirectories).
  /// A compile error names the file and the line.
  public init(paths: [String]) throws {
    if let reason = Self.unavailable {
      throw ScanError.rules("YARA rules need libyara 4 (Debian package libyara9): \(reason)")
    }
    var files: [String] = []
    for path in paths {
      guard let info = try Path.status(path) else { throw ScanError.rules("rules \(quoted(path)) do not exist") }
      if Path.isDirectory(info) {
        let names = try Path.entries(of: path).filter { $0.hasSuffix(".yar") || $0.hasSuffix(".yara") }.sorted()
        let found = names.map { Path.join(path, $0) }.filter { Path.regularFileSize($0) != nil }
        guard !found.isEmpty else { throw ScanError.rules("no rule files (*.yar, *.yara) in \(quoted(path))") }
        files += found
      } else if Path.isRegularFile(info) {
        files.append(path)
      } else {
        throw ScanError.rules("rules \(quoted(path)) is not a regular file or a directory")
      }
    }
    guard !files.isEmpty else { throw ScanError.rules("no rule files given") }
    var compiler: UnsafeMutablePointer<YR_COMPILER>?
    guard cy_compiler_create(&compiler) == ERROR_SUCCESS, let compiler else {
      throw ScanError.rules("libyara could not create a compiler (out of memory)")
    }
    defer { cy_compiler_destroy(compiler) }
    let messages = CompilerMessages()
    let context = Unmanaged.passUnretained(messages).toOpaque()
    cy_compiler_set_callback(
      compiler,
      { level, file, line, _, message, context in
        let messages = Unmanaged<CompilerMessages>.fromOpaque(context!).takeUnretainedValue()
        let text =
          "\(file.map { quoted(String(cString: $0)) } ?? "rules"), line \(line): "
          + (message.map { singleLine(String(cString: $0)) } ?? "error")
        if level == YARA_ERROR_LEVEL_ERROR { messages.errors.append(text) } else { messages.warnings.append(text) }
      }, context)
    for file in files {
      let descriptor = try FileDescriptor(path: file, flags: O_RDONLY)
      // The compiler stops at the first file with errors: later files are not read.
      let errors = file.withCString { cy_compiler_add_fd(compiler, descriptor.rawValue, nil, $0) }
      guard errors == 0 else {
        let first = messages.errors.first ?? "\(quoted(file)): \(errors) errors"
        let more = messages.errors.count > 1 ? " (and \(messages.errors.count - 1) more errors)" : ""
        throw ScanError.rules("rules do not compile: \(first)\(more)")
      }
    }
    var compiled: UnsafeMutablePointer<YR_RULES>?
    guard cy_compiler_get_rules(compiler, &compiled) == ERROR_SUCCESS, let compiled else {
      throw ScanError.rules("libyara could not build the compiled rules (out of memory)")
    }
    rules = compiled
    self.files = files
    warnings = messages.warnings
  }

  deinit { cy_rules_destroy(rules) }
}

/// What libyara's compiler said, gathered by its callback.
private final class CompilerMessages {
  var errors: [String] = []
  var warnings: [String] = []
}
