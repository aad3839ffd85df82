import Archive
import CRIU
import CheckpointKit
import SystemSupport

extension CheckpointDiff {
  /// The tree view: upstream's banner, `Checkpoint A:` / `Checkpoint B:`, its boxed sections (`Memory Changes`,
  /// `Process Tree`, `File Descriptor Changes`, `Socket Changes`) with its `+ - ~ =` markers, then the sections
  /// beyond upstream (`Memory Map Changes`, `Page Changes`, `Root FS Changes`) and the `Summary:` block.
  ///
  /// Written piece by piece through `write`, so a large hexdump never sits in memory.
  public func renderTree(_ write: (String) throws -> Void) throws {
    try write(banner)
    for (label, side) in [("A", a), ("B", b)] {
      try write("Checkpoint \(label):\n  Created: \(side.created)\n  Size:    \(ByteCount.format(side.totalSize))\n\n")
    }
    var box = Box(title: "Memory Changes")
    if memoryChange > 0 {
      box.line("↑ Increased by \(ByteCount.format(memoryChange))")
    } else if memoryChange < 0 {
      box.line("↓ Decreased by \(ByteCount.format(-memoryChange))")
    } else {
      box.line("= No change")
    }
    try write(box.text)
    try write(processBox(processes).text)
    if let files { try write(filesBox(files).text) }
    if let sockets { try write(socketsBox(sockets).text) }
    if let memoryMaps { try write(memoryMapsBox(memoryMaps).text) }
    if let pages { try renderPages(pages, write) }
    if let rootFS { try write(rootFSBox(rootFS).text) }
    try write("Summary:\n" + summary + "\n")
  }

  /// The whole tree view as one string.
  public var treeText: String {
    var text = ""
    try? renderTree { text += $0 }
    return text
  }

  var banner: String {
    func field(_ label: String, _ value: String) -> String {
      "║ \(label)\(pad(truncated(value, 51), 51)) ║\n"
    }
    return """
      ╔════════════════════════════════════════════════════════════════╗
      ║ Checkpoint Diff                                                ║
      ╠════════════════════════════════════════════════════════════════╣

      """ + field("Container: ", containerName) + field("Image:     ", image) + field("ID:        ", containerID)
        + "╚════════════════════════════════════════════════════════════════╝\n\n"
  }

  /// Upstream's summary lines: the container, then counts of what changed (a line only when something did).
  public var summary: String {
    var lines = ["Checkpoint comparison for container \(containerName)"]
    if !(processes.added.isEmpty && processes.removed.isEmpty && processes.modified.isEmpty) {
      lines.append("Processes: +\(processes.added.count) -\(processes.removed.count) ~\(processes.modified.count)")
    }
    if let files, !(files.added.isEmpty && files.removed.isEmpty) {
      lines.append("Files: +\(files.added.count) -\(files.removed.count)")
    }
    if let sockets, !(sockets.added.isEmpty && sockets.removed.isEmpty) {
      lines.append("Sockets: +\(sockets.added.count) -\(sockets.removed.count)")
    }
    if memoryChange != 0 {
      lines.append("Memory: " + (memoryChange > 0 ? "+" : "-") + ByteCount.format(abs(memoryChange)))
    }
    if let memoryMaps, memoryMaps.contains(where: { !$0.isEmpty }) {
      let added = memoryMaps.reduce(0) { $0 + $1.added.count }
      let removed = memoryMaps.reduce(0) { $0 + $1.removed.count }
      let changed = memoryMaps.reduce(0) { $0 + $1.changed.count }
      lines.append("Memory maps: +\(added) -\(removed) ~\(changed)")
    }
    if let pages, pages.contains(where: { !$0.ranges.isEmpty }) {
      func total(_ kind: PageChanges.Kind) -> String {
        ByteCount.format(Int64(clamping: pages.reduce(UInt64(0)) { $0 &+ $1.total(kind) }))
      }
      lines.append("Pages: +\(total(.added)) -\(total(.removed)) ~\(total(.changed))")
    }
    if let rootFS, !rootFS.isEmpty {
      lines.append(
        "Root FS: +\(rootFS.added.count) -\(rootFS.removed.count) ~\(rootFS.changed.count)"
          + ", deleted +\(rootFS.deletedAdded.count) -\(rootFS.deletedRemoved.count)")
    }
    return lines.joined(separator: "\n")
  }

  func processBox(_ processes: ProcessChanges) -> Box {
    var box = Box(title: "Process Tree")
    func details(_ process: Process, indent: String) {
      for change in process.changes {
        box.line(indent + "\(change.field): \(change.before ?? "(none)") → \(change.after ?? "(none)")")
      }
    }
    let changed = !(processes.added.isEmpty && processes.removed.isEmpty && processes.modified.isEmpty)
    if options.showUnchanged && !treeB.isEmpty {
      var status: [UInt32: String] = [:]
      for process in processes.added { status[process.pid] = "+" }
      for process in processes.modified { status[process.pid] = "~" }
      for process in processes.unchanged { status[process.pid] = "=" }
      let modified = Dictionary(processes.modified.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
      func node(_ process: InspectedProcess) -> Tree {
        let name = process.commandLine.flatMap { $0.isEmpty ? nil : $0 } ?? process.process.name
        var tree = Tree("[\(status[process.pid] ?? " ") PID \(process.pid)]  \(name)")
        for change in modified[process.pid]?.changes ?? [] {
          tree.add("\(change.field): \(change.before ?? "(none)") → \(change.after ?? "(none)")")
        }
        for child in process.children { tree.add(node(child)) }
        return tree
      }
      let rendered = Tree("Process tree", treeB.map(node)).rendered
      for line in rendered.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        box.line(String(line))
      }
      if !processes.removed.isEmpty {
        box.line("Removed:")
        for process in processes.removed { box.line("  - PID \(pad(String(process.pid), 5)) \(process.command)") }
      }
      return box
    }
    guard changed else {
      box.line("= No change")
      return box
    }
    if !processes.added.isEmpty {
      box.line("Added:")
      for process in processes.added {
        box.line("  + PID \(pad(String(process.pid), 5)) \(process.command)")
        if let commandLine = process.commandLine, !commandLine.isEmpty { box.line("            \(commandLine)") }
      }
    }
    if !processes.removed.isEmpty {
      box.line("Removed:")
      for process in processes.removed { box.line("  - PID \(pad(String(process.pid), 5)) \(process.command)") }
    }
    if !processes.modified.isEmpty {
      box.line("Modified:")
      for process in processes.modified {
        box.line("  ~ PID \(pad(String(process.pid), 5)) \(process.command)")
        details(process, indent: "      ")
      }
    }
    return box
  }

  func filesBox(_ files: Changes<File>) -> Box {
    var box = Box(title: "File Descriptor Changes")
    func rows(_ label: String, _ marker: String, _ list: [File]) {
      guard !list.isEmpty else { return }
      box.line(label)
      for file in list { box.line("  \(marker) PID \(pad(String(file.pid), 5)) \(pad(file.fd, 10)) \(file.path)") }
    }
    rows("Added:", "+", files.added)
    rows("Removed:", "-", files.removed)
    if options.showUnchanged { rows("Unchanged:", "=", files.unchanged) }
    if files.added.isEmpty && files.removed.isEmpty && !(options.showUnchanged && !files.unchanged.isEmpty) {
      box.line("= No change")
    }
    return box
  }

  func socketsBox(_ sockets: Changes<Socket>) -> Box {
    var box = Box(title: "Socket Changes", width: 71)
    let showUnchanged = options.showUnchanged && !sockets.unchanged.isEmpty
    guard !sockets.added.isEmpty || !sockets.removed.isEmpty || showUnchanged else {
      box.line("= No change")
      return box
    }
    box.line("    \(pad("PID", 5)) \(pad("PROTO", 7)) \(pad("STATE", 12)) \(pad("LOCAL", 21)) PEER")
    func rows(_ marker: String, _ list: [Socket]) {
      for entry in list {
        let (state, local, peer) = Self.columns(entry.socket)
        box.line(
          " \(marker)  \(pad(String(entry.pid), 5)) \(pad(entry.socket.type, 7)) \(pad(state, 12)) "
            + "\(pad(local, 21)) \(peer)")
      }
    }
    rows("+", sockets.added)
    rows("-", sockets.removed)
    if showUnchanged { rows("=", sockets.unchanged) }
    return box
  }

  /// State, local and peer columns: addresses for INET (IPv6 bracketed), the name for UNIX, as `inspect`
  /// shows them for the others.
  static func columns(_ socket: OpenSocket) -> (String, String, String) {
    let state = socket.state.isEmpty ? "-" : socket.state
    switch socket.type {
    case "UNIX":
      return (
        state, socket.address.isEmpty ? "(unnamed)" : socket.address, socket.peer == 0 ? "-" : "peer \(socket.peer)"
      )
    case "PACKET", "NETLINK":
      return (state, socket.summary, "-")
    default:
      let local = OpenSocket.endpoint(socket.source, socket.sourcePort)
      let peer = socket.destinationPort == 0 ? "-" : OpenSocket.endpoint(socket.destination, socket.destinationPort)
      return (state, local, peer)
    }
  }

  func memoryMapsBox(_ changes: [MemoryMapChanges]) -> Box {
    var box = Box(title: "Memory Map Changes")
    let shown = changes.filter { !$0.isEmpty }
    if shown.isEmpty { box.line("= No change") }
    for process in shown {
      box.line("PID \(process.pid) (\(process.command))")
      for vma in process.added { box.line("  + \(vma.mapsLine)") }
      for vma in process.removed { box.line("  - \(vma.mapsLine)") }
      for pair in process.changed {
        box.line("  ~ \(pair.before.mapsLine)")
        box.line("    → \(pair.after.mapsLine)")
      }
    }
    return box
  }

  /// The `Page Changes` box, line by line; with ``Options/hexdump`` each changed run is followed by its rows,
  /// read from the rows the comparison logged (see ``hexRows(of:_:)``).
  func renderPages(_ pages: [PageChanges], _ write: (String) throws -> Void) throws {
    let box = Box(title: "Page Changes")
    func line(_ text: String) throws { try write("│ \(text)\n") }
    try write(box.top)
    let shown = pages.filter { !$0.ranges.isEmpty }
    if shown.isEmpty { try line("= No change") }
    func size(_ bytes: UInt64) -> String { ByteCount.format(Int64(clamping: bytes)) }
    for process in shown {
      try line(
        "PID \(process.pid) (\(process.command)): +\(size(process.total(.added))) -\(size(process.total(.removed))) "
          + "~\(size(process.total(.changed)))")
      for range in process.ranges {
        let marker = ["added": "+", "removed": "-", "changed": "~"][range.kind.rawValue] ?? "?"
        try line(
          "  \(marker) \(MemoryMapping.hex(range.start, width: 12))-\(MemoryMapping.hex(range.end, width: 12))  "
            + "\(pad(size(range.bytes), 10)) \(range.vma)")
        guard options.hexdump else { continue }
        try hexRows(of: range) { address, before, after in
          try line("    - " + HexDump.row(address: address, bytes: before))
          try line("    + " + HexDump.row(address: address, bytes: after))
        }
      }
    }
    try write(box.bottom)
  }

  func rootFSBox(_ changes: RootFSChanges) -> Box {
    var box = Box(title: "Root FS Changes")
    if changes.isEmpty { box.line("= No change") }
    func describe(_ file: RootFSChanges.File) -> String {
      "\(file.path)  (\(file.mode), \(ByteCount.format(file.size)))"
    }
    for file in changes.added { box.line("  + \(describe(file))") }
    for file in changes.removed { box.line("  - \(describe(file))") }
    for pair in changes.changed {
      var what: [String] = []
      if pair.before.mode != pair.after.mode { what.append("mode \(pair.before.mode) → \(pair.after.mode)") }
      if pair.before.size != pair.after.size {
        what.append("size \(ByteCount.format(pair.before.size)) → \(ByteCount.format(pair.after.size))")
      }
      if pair.before.digest != pair.after.digest { what.append("content") }
      box.line("  ~ \(pair.after.path)  (\(what.joined(separator: ", ")))")
    }
    if !changes.deletedAdded.isEmpty || !changes.deletedRemoved.isEmpty {
      box.line("Deleted files:")
      for path in changes.deletedAdded { box.line("  + \(path)") }
      for path in changes.deletedRemoved { box.line("  - \(path)") }
    }
    return box
  }
}

/// One of upstream's boxed sections: `┌─ Title ───┐`, `│ ` lines, `└───┘` (64 columns, sockets 73).
struct Box {
  var title: String
  var width = 62
  var lines: [String] = []

  mutating func line(_ text: String) { lines.append(text) }

  var top: String {
    let head = "┌─ \(title) "
    return head + String(repeating: "─", count: max(0, width - head.count + 1)) + "┐\n"
  }
  var body: String { lines.map { "│ \($0)\n" }.joined() }
  var bottom: String { "└" + String(repeating: "─", count: width) + "┘\n" }
  var text: String { top + body + bottom }
}

/// `text` padded with spaces to `width` characters (Go's `%-Ns`).
func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Upstream's truncation: longer text is cut to `width - 3` characters and `...`.
func truncated(_ text: String, _ width: Int) -> String {
  text.count <= width ? text : String(text.prefix(width - 3)) + "..."
}
