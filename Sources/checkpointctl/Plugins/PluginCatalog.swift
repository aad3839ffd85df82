import Glibc
import SystemSupport

/// Finds plugins on a search path the way upstream checkpointctl does: every `checkpointctl-<name>` that is an
/// executable regular file (after following links), in `PATH` order, then in byte order of names within a
/// directory; the first one of a name wins and built-in commands win over all of them. Directories, broken links,
/// non-executable files and unreadable `PATH` entries are skipped; nothing here runs a plugin.
public struct PluginCatalog: Sendable {
  /// The directories searched.
  public var searchPath: SearchPath
  /// Names that belong to built-in commands.
  public var builtins: Set<String>

  /// A catalog over `searchPath` (a `PATH` value; empty entries are skipped like upstream does, relative ones are
  /// taken from `currentDirectory`).
  public init(searchPath: String?, builtins: Set<String>, currentDirectory: String? = nil) {
    self.init(searchPath: SearchPath(searchPath, currentDirectory: currentDirectory), builtins: builtins)
  }

  /// A catalog over `searchPath`.
  public init(searchPath: SearchPath, builtins: Set<String>) {
    self.searchPath = searchPath
    self.builtins = builtins
  }

  /// A catalog over this process's `PATH` (none when it is unset).
  public static func fromEnvironment(builtins: Set<String>) -> PluginCatalog {
    PluginCatalog(searchPath: .fromEnvironment(), builtins: builtins)
  }

  /// The plugin `checkpointctl <name>` runs: the first executable `checkpointctl-<name>` on the path, unless `name`
  /// is a built-in command or not a valid plugin name. Looks only at that one file name in each directory.
  public func plugin(named name: String) -> Plugin? {
    guard Plugin.isValidName(name), !builtins.contains(name),
      let path = searchPath.firstExecutable(named: Plugin.prefix + name)
    else { return nil }
    return Plugin(name: name, path: path)
  }

  /// Every plugin on the path, shadowed ones included (marked), in path order. The same file reached twice (a
  /// directory listed twice, `/bin` linked to `/usr/bin`) is listed once.
  public func all() -> [Plugin] {
    var result: [Plugin] = []
    var winner: [String: String] = [:]
    var seenFiles: Set<FileIdentity> = []
    for directory in searchPath.directories {
      for fileName in PluginCatalog.fileNames(in: directory) {
        guard fileName.hasPrefix(Plugin.prefix) else { continue }
        let name = String(fileName.dropFirst(Plugin.prefix.count))
        guard Plugin.isValidName(name) else { continue }
        let path = Path.join(directory, fileName)
        guard let file = SearchPath.executableFile(path) else { continue }
        guard seenFiles.insert(FileIdentity(name: name, file: file)).inserted else { continue }
        var plugin = Plugin(name: name, path: path)
        if builtins.contains(name) {
          plugin.shadowing = .builtin
        } else if let earlier = winner[name] {
          plugin.shadowing = .earlierPlugin(path: earlier)
        } else {
          winner[name] = path
        }
        result.append(plugin)
      }
    }
    return result
  }

  /// The plugins `checkpointctl <name>` runs, in path order.
  public func active() -> [Plugin] { all().filter(\.isActive) }

  /// A plugin file, told apart by name and inode so that one file reached through two directories counts once.
  private struct FileIdentity: Hashable {
    var name: String
    var file: SearchPath.FileID
  }

  /// The names in a directory, sorted by their bytes (Go's `os.ReadDir` order); none when it cannot be read.
  /// Names that are not UTF-8 cannot be typed as sub-commands and are left out.
  static func fileNames(in directory: String) -> [String] {
    guard let stream = opendir(directory) else { return [] }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let bytes = Path.name(of: entry)
      let name = String(decoding: bytes, as: UTF8.self)
      if Array(name.utf8) == bytes, name.hasPrefix(Plugin.prefix) { names.append(name) }
    }
    return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
  }
}
