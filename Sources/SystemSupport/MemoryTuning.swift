import CSystemShims

/// Process-wide settings of the C library's allocator, which only the program's entry point should change.
public enum MemoryTuning {
  /// Fixes malloc's mmap threshold at 128 KiB: large buffers (libarchive's, zstd's, the 1 MiB pipeline buffers)
  /// are then always mapped on their own and returned at once. glibc would otherwise raise its threshold when
  /// the first archive probe frees its buffers, and keep the next ones in a heap that never shrinks (+3.5 MiB
  /// of peak RSS on a zstd archive).
  public static func fixMapThreshold() {
    _ = checkpointctl_fix_mmap_threshold(128 << 10)
  }
}
