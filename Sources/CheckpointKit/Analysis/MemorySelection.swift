/// The members memory commands need, decided before a compressed archive is streamed.
public enum MemorySelection {
  /// Members the size table needs.
  public static let table = CheckpointSource.Selection(memory: { name in
    let base = Path.base(of: name)
    return base == "pstree.img" || base.hasPrefix("core-") || base.hasPrefix("pagemap-") || base.hasPrefix("mm-")
  })

  /// Members a process's memory needs: images in memory, pages for random access.
  public static let memory = CheckpointSource.Selection(
    memory: { name in
      let base = Path.base(of: name)
      return base == "pstree.img" || base == "files.img" || base == "memfd.img" || base.hasPrefix("core-")
        || base.hasPrefix("pagemap-") || base.hasPrefix("mm-")
    }, randomAccess: CheckpointLayout.isPages)
}
