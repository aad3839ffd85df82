import Archive
import CRIU
import SystemSupport

/// The members memory commands need, decided before a compressed archive is streamed.
public enum MemorySelection {
  /// Members the size table needs.
  public static let table = CheckpointSource.Selection(memory: { name in
    CRIUImage.Kind(of: Path.base(of: name))?.isOne(of: [.pstree, .core, .pagemap, .shmemPagemap, .mm]) == true
  })

  /// Members a process's memory needs: images in memory, pages for random access.
  public static let memory = CheckpointSource.Selection(
    memory: { name in
      CRIUImage.Kind(of: Path.base(of: name))?.isOne(of: [
        .pstree, .files, .memfd, .core, .pagemap, .shmemPagemap, .mm,
      ]) == true
    }, randomAccess: CheckpointLayout.isPages)
}
