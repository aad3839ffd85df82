import Archive
import CRIU
import SystemSupport

/// Names and permissions of VMAs, as `/proc/PID/maps` shows them.
public struct MemoryMaps: Sendable {
  /// Paths of regular files by file id (`files.img`), and memfd names by file id.
  let files: [UInt64: String]

  /// Reads the file names a checkpoint's VMAs may refer to.
  public init(source: CheckpointSource) throws {
    var files: [UInt64: String] = [:]
    if source.contains(CRIUImage.files) {
      for entry in try source.image(.files).messages(FileEntry.self) {
        if entry.hasReg { files[UInt64(entry.id)] = entry.reg.name }
      }
    }
    self.files = files
  }

  /// `rwxp`-style permissions.
  public static func permissions(_ vma: VmaEntry) -> String {
    (vma.prot & 1 != 0 ? "r" : "-") + (vma.prot & 2 != 0 ? "w" : "-") + (vma.prot & 4 != 0 ? "x" : "-")
      + (vma.flags & 1 != 0 ? "s" : "p")
  }

  /// What the VMA maps: a file path, `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]`, `[shmem]`, `[memfd]`
  /// or `[anon]`.
  public func name(of vma: VmaEntry) -> String {
    let status = vma.status
    if status & (1 << 5) != 0 { return "[heap]" }
    // CRIU marks the main stack by its MAP_GROWSDOWN mapping flag.
    if status & (1 << 1) != 0 || vma.flags & 0x100 != 0 { return "[stack]" }
    if status & (1 << 3) != 0 { return "[vdso]" }
    if status & (1 << 12) != 0 { return "[vvar]" }
    if status & (1 << 2) != 0 { return "[vsyscall]" }
    if status & (1 << 14) != 0 { return "[memfd]" }
    if status & (1 << 8) != 0 { return "[shmem]" }
    if status & ((1 << 6) | (1 << 7)) != 0 { return files[vma.shmid] ?? "[file \(vma.shmid)]" }
    return "[anon]"
  }
}
