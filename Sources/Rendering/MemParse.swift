import Archive
import CRIU
import CheckpointKit
import Glibc
import OCI
import SystemSupport

/// The `memparse` command's work: sizes per process, or one process's memory.
public enum MemParse {
  /// The size table of one checkpoint.
  public static func table(_ path: String, registry: RegistryOptions = RegistryOptions()) throws -> String {
    let source = try CheckpointSource(path: path, selection: MemorySelection.table, registry: registry)
    return MemoryUsage.table(try explaining(source) { try MemoryUsage.rows(source) }, source: path)
  }

  /// The sizes of one checkpoint as JSON (see ``MemoryUsage/jsonValue(_:source:)``).
  public static func usage(_ path: String, registry: RegistryOptions = RegistryOptions()) throws -> JSONValue {
    let source = try CheckpointSource(path: path, selection: MemorySelection.table, registry: registry)
    return MemoryUsage.jsonValue(try explaining(source) { try MemoryUsage.rows(source) }, source: path)
  }

  /// Runs `body`; a missing image of a checkpoint that holds none says so.
  static func explaining<T>(_ source: CheckpointSource, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw CheckpointError.explained(error, source: source)
    }
  }

  /// The size tables of several checkpoints as one JSON array.
  public static func json(_ values: [JSONValue]) -> String {
    JSONValue.array(values).formatted(keyOrder: MemoryUsage.jsonKeys) + "\n"
  }

  /// Dumps process `pid` of `path`: to `output` (atomically, `0600`, full rows, progress reported to `progress`),
  /// or to `standardOutput` (hex rows collapsed where identical). `banner` gets upstream's banner line before any
  /// byte of the dump is written. The pages of a compressed archive are dumped as they are decompressed when the
  /// archive's order allows it (``MemoryPass``).
  public static func dump(
    path: String, pid: UInt32, raw: Bool, output: String?, filter: MemoryFilter = MemoryFilter(), json: Bool = false,
    registry: RegistryOptions = RegistryOptions(), progress sink: ProgressSink = .none,
    standardOutput: FileDescriptor, banner: (String) -> Void
  ) throws {
    let toFile = output != nil && output != "-"
    var bannerShown = false
    func dump(_ memory: ProcessMemory) throws -> AtomicFile? {
      defer { bannerShown = true }
      return try write(
        memory, of: path, raw: raw, output: toFile ? output : nil, filter: filter, json: json, progress: sink,
        standardOutput: standardOutput, banner: bannerShown ? { _ in } : banner)
    }
    var streamed: AtomicFile?
    let pass = try MemoryPass.run(
      path: path, selection: MemorySelection.memory, registry: registry, replay: toFile,
      wants: { memory, _ in memory.pid == pid && (filter.vmaFlags == nil || !memory.vmas.isEmpty) }
    ) { streamed = try dump($0) }
    let source = pass.source
    let memory = try explaining(source) {
      _ = try source.processWithMemory(pid: pid)
      try filter.check(source, pid: pid)
      return pass.streamed.contains(pid) ? nil : try source.memory(pid: pid)
    }
    guard let memory else {
      try streamed?.commit()
      return
    }
    streamed?.discard()
    try dump(memory)?.commit()
  }

  /// Writes the dump of `memory` to `standardOutput`, or to a new temporary file for `output`, returned
  /// uncommitted.
  private static func write(
    _ memory: ProcessMemory, of path: String, raw: Bool, output: String?, filter: MemoryFilter, json: Bool,
    progress sink: ProgressSink, standardOutput: FileDescriptor, banner: (String) -> Void
  ) throws -> AtomicFile? {
    let records = MemoryDump.Format.json(source: path, pid: memory.pid)
    guard let output else {
      if !raw && !json {
        banner("\nDisplaying memory pages content for process ID \(memory.pid) from checkpoint: \(path)\n\n")
      }
      let format: MemoryDump.Format = json ? records : raw ? .raw : .hex(compact: true)
      try MemoryDump.dump(memory, format: format, filter: filter) { try standardOutput.write($0) }
      return nil
    }
    banner(
      "\nWriting memory pages content for process ID \(memory.pid) from checkpoint: \(path) to file: \(output)...\n")
    let file = try AtomicFile(destination: output)
    let progress = sink.start("Writing", total: MemoryDump.size(of: memory, filter: filter))
    // Formatting and writing overlap: the dump of 1 GiB of memory is about 5.4 GiB of text.
    let writer = BackgroundWriter(file: file.descriptor)
    let format: MemoryDump.Format = json ? records : raw ? .raw : .hex(compact: false)
    do {
      try MemoryDump.dump(memory, format: format, filter: filter, progress: progress) { try writer.write($0) }
    } catch {
      try? writer.finish()
      throw error
    }
    try writer.finish()
    return file
  }

  /// Searches every process of `path` (or only `pid`) and renders the hits as a table or JSON.
  public static func search(
    path: String, pattern: SearchPattern, context: Int, pid: UInt32?, filter: MemoryFilter, json: Bool,
    registry: RegistryOptions = RegistryOptions()
  ) throws -> String {
    let pass = try MemorySearch.pass(
      path: path, pattern: pattern, context: context, pid: pid, filter: filter, registry: registry)
    let hits = try explaining(pass.source) {
      try MemorySearch.search(pass, pattern: pattern, context: context, pid: pid, filter: filter)
    }
    return json
      ? SearchReport.json(hits, pattern: pattern, source: path) : SearchReport.table(hits, pattern: pattern, pid: pid)
  }
}
