import CRIU
import CheckpointKit
import SystemSupport

/// The built-in indicators: what an analyst checks first in a checkpoint, each finding with its evidence.
struct Indicators {
  let source: CheckpointSource
  let processes: [CheckpointProcess]
  let files: FileTable?
  /// Names of memfd files by file id (`files.img` → `memfd.img`).
  let memfdNames: [UInt32: String]
  let maps: MemoryMaps?
  /// The files CRIU saved as deleted (`remap-fpath.img`): what it kept of each, by file id.
  let remaps: [UInt32: String]
  /// Paths Podman lists in `deleted.files`.
  let deletedPaths: Set<String>

  init(source: CheckpointSource) throws {
    self.source = source
    processes = try source.processes()
    files = source.contains(CRIUImage.files) ? try FileTable(source: source) : nil
    maps = try MemoryMaps(source: source)
    var memfdNames: [UInt32: String] = [:]
    if let files, source.contains(CRIUImage.memfd) {
      var names: [UInt64: String] = [:]
      for inode in try source.image(.memfd).messages(MemfdInodeEntry.self) { names[inode.inodeID] = inode.name }
      for (id, entry) in files.files where entry.hasMemfd {
        if let name = names[UInt64(entry.memfd.inodeID)] { memfdNames[id] = name }
      }
    }
    self.memfdNames = memfdNames
    var remaps: [UInt32: String] = [:]
    if source.contains(CRIUImage.remapFilePath) {
      for remap in try source.image(.remapFilePath).messages(RemapFilePathEntry.self) {
        switch remap.remapType {
        case .ghost: remaps[remap.origID] = "CRIU saved its contents (ghost-file-\(remap.remapID).img)"
        case .linked: remaps[remap.origID] = "CRIU kept it through a link-remap file"
        default: continue
        }
      }
    }
    self.remaps = remaps
    deletedPaths = Set(try RootFSDiff.deletedFiles(of: source).map { $0.hasPrefix("/") ? $0 : "/" + $0 })
  }

  /// Whether a VMA's memory is executable and backed by no file on disk (anonymous, shared anonymous or a
  /// memfd), the kernel's own vdso, vvar and vsyscall pages aside.
  static func isExecutableAnonymous(_ vma: VmaEntry) -> Bool {
    let kernel: UInt32 = (1 << 2) | (1 << 3) | (1 << 12)
    let anonymous: UInt32 = (1 << 8) | (1 << 9) | ProcessMemory.memfd
    return vma.prot & 4 != 0 && vma.status & kernel == 0 && vma.status & anonymous != 0
  }

  /// Every finding for the processes (all, or `pid`), in pid order, then in ``FindingKind`` order; `heads` has
  /// the first bytes of the executable anonymous VMAs by VMA start, where they were read.
  func findings(pid: UInt32?, heads: [UInt32: [UInt64: (address: UInt64, bytes: [UInt8])]]) throws -> [Finding] {
    let pids = Set(processes.map(\.pid))
    let capabilities = try Capabilities.containerDefault(of: source, processes: processes)
    let sockets = try socketTable()
    let queues = try self.queues()
    var result: [Finding] = []
    for process in processes where pid == nil || process.pid == pid {
      var found: [Finding] = []
      func add(_ kind: FindingKind, _ images: [String], _ detail: String, _ evidence: [Evidence] = []) {
        found.append(
          Finding(
            kind: kind, pid: process.pid, process: process.name, images: images, detail: detail, evidence: evidence))
      }
      if process.ppid != 0 && !pids.contains(process.ppid) {
        add(.parentOutsideTree, ["pstree.img"], "parent pid \(process.ppid) is not in the checkpoint's process tree")
      }
      guard process.state.hasResources else {
        result += found
        continue
      }
      let core = CRIUImage.core(tid: process.pid).name
      if let creds = try source.image(.core(tid: process.pid)).messages(CoreEntry.self).first?.threadCore.creds,
        creds.uid == 0 || creds.euid == 0
      {
        let extra = Capabilities.names(creds.capEff).filter { !capabilities.contains($0) }
        if !extra.isEmpty {
          add(
            .extraCapabilities, [core],
            "runs as root with \(extra.count) effective capabilities beyond the \(capabilities.count) of the container's "
              + "first process",
            [Evidence("beyond the container's set", text: extra.joined(separator: " "))])
        }
      }
      if source.hasMemoryMap(pid: process.pid) {
        try memoryFindings(process, heads: heads[process.pid] ?? [:], add: add)
      }
      if files != nil {
        try socketFindings(process, sockets: sockets, queues: queues, add: add)
      }
      result += found.enumerated().sorted {
        ($0.element.kind.sortIndex, $0.offset) < ($1.element.kind.sortIndex, $1.offset)
      }.map(\.element)
    }
    return result
  }

  private func memoryFindings(
    _ process: CheckpointProcess, heads: [UInt64: (address: UInt64, bytes: [UInt8])],
    add: (FindingKind, [String], String, [Evidence]) -> Void
  ) throws {
    let mmImage = CRIUImage.mm(pid: process.pid).name
    let mm = try source.memoryMap(pid: process.pid)
    let vmas = mm.vmas.sorted { $0.start < $1.start }
    for vma in vmas where Self.isExecutableAnonymous(vma) {
      let range = "\(hex(vma.start))-\(hex(vma.end)) \(MemoryMaps.permissions(vma))"
      var evidence: [Evidence] = []
      if let head = heads[vma.start] {
        evidence.append(Evidence("first bytes", bytes: head.bytes, address: head.address))
      }
      if vma.status & ProcessMemory.memfd != 0 {
        let name = memfdNames[UInt32(truncatingIfNeeded: vma.shmid)].map { "memfd:" + $0 } ?? "[memfd]"
        add(.executableMemfd, [mmImage], "\(range) maps \(quoted(name)) executable", evidence)
      } else if vma.prot & 7 == 7 {
        add(.rwxMemory, [mmImage], "\(range) is anonymous memory both writable and executable", evidence)
      } else {
        add(.executableAnonymousMemory, [mmImage], "\(range) is executable anonymous memory", evidence)
      }
    }
    let exePath = files?.files[mm.exeFileID].map { $0.hasReg ? $0.reg.name : "" }
    if let exePath, remaps[mm.exeFileID] != nil || deletedPaths.contains(exePath) {
      add(
        .deletedExecutable, [mmImage, FileTable.remapImage], "executable \(quoted(exePath)) was deleted",
        [Evidence("kept", text: remaps[mm.exeFileID] ?? "listed in deleted.files")])
    }
    // Each deleted file once, with the VMAs that map it; the deleted executable was reported above.
    var mapped: [UInt32: [VmaEntry]] = [:]
    for vma in vmas where vma.status & ((1 << 6) | (1 << 7)) != 0 && vma.status & ProcessMemory.memfd == 0 {
      let id = UInt32(truncatingIfNeeded: vma.shmid)
      guard id != mm.exeFileID, let entry = files?.files[id], entry.hasReg,
        remaps[id] != nil || deletedPaths.contains(entry.reg.name)
      else { continue }
      mapped[id, default: []].append(vma)
    }
    for (id, list) in mapped.sorted(by: { $0.value[0].start < $1.value[0].start }) {
      let path = files?.files[id]?.reg.name ?? ""
      add(
        .deletedMappedFile, [mmImage, FileTable.remapImage],
        "maps deleted file \(quoted(path)) (\(list.count) VMA\(list.count == 1 ? "" : "s"))",
        [
          Evidence("kept", text: remaps[id] ?? "listed in deleted.files"),
          Evidence(
            "mapped at",
            text: list.map { "\(hex($0.start))-\(hex($0.end)) \(MemoryMaps.permissions($0))" }.joined(separator: ", ")),
        ])
    }
    for variable in try environment(of: process.pid, mm: mm) where Self.loaderVariables.contains(variable.name) {
      var evidence = [Evidence("environment", text: variable.text, address: variable.address)]
      let path = variable.text.dropFirst(variable.name.count + 1)
      let mapping = vmas.filter { maps?.name(of: $0) == String(path) }
      if variable.name == "LD_PRELOAD", let first = mapping.first, let last = mapping.last {
        evidence.append(Evidence("mapped at", text: "\(hex(first.start))-\(hex(last.end))"))
      }
      add(.loaderEnvironment, [mmImage], "\(variable.name) is set: \(quoted(variable.text))", evidence)
    }
  }

  static let loaderVariables: Set<String> = ["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT"]

  /// The environment strings of `pid`, each with its address; none when its pages are not in the checkpoint.
  private func environment(of pid: UInt32, mm: MmEntry) throws -> [(name: String, text: String, address: UInt64)] {
    guard mm.mmEnvStart < mm.mmEnvEnd, mm.mmEnvEnd - mm.mmEnvStart <= 1 << 20,
      let bytes = try? source.memory(pid: pid).read(address: mm.mmEnvStart, count: Int(mm.mmEnvEnd - mm.mmEnvStart))
    else { return [] }
    var result: [(String, String, UInt64)] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == 0 {
      if index > start {
        let entry = bytes[start..<index]
        let name = entry.firstIndex(of: UInt8(ascii: "=")).map { entry[start..<$0] } ?? entry
        result.append(
          (
            String(decoding: name, as: UTF8.self), String(decoding: entry, as: UTF8.self),
            mm.mmEnvStart + UInt64(start)
          ))
      }
      start = index + 1
    }
    return result
  }
}

extension FindingKind {
  var sortIndex: Int { Self.allCases.firstIndex(of: self)! }
}

func hex(_ value: UInt64) -> String { "0x" + MemoryMapping.hex(value, width: 12) }
