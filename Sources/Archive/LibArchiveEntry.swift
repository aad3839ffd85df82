import CLibArchive
import Glibc

extension ArchiveEntry {
  /// Runs `body` with a libarchive entry describing this member: its path, file type (hard links and unknown
  /// kinds are regular files), permissions, size (regular files only), modification time, owners and link
  /// target. `archive` names the archive being written in the out-of-memory error.
  func withLibArchiveEntry<T>(archive: String, _ body: (OpaquePointer) throws -> T) throws -> T {
    guard let entry = archive_entry_new() else {
      throw ArchiveError.libarchive(
        archive: archive, operation: "writing", code: ARCHIVE_FATAL, message: "out of memory")
    }
    defer { archive_entry_free(entry) }
    archive_entry_set_pathname(entry, path)
    let type: mode_t
    switch kind {
    case .regular, .hardLink, .unknown: type = Glibc.S_IFREG
    case .directory: type = Glibc.S_IFDIR
    case .symbolicLink: type = Glibc.S_IFLNK
    case .characterDevice: type = Glibc.S_IFCHR
    case .blockDevice: type = Glibc.S_IFBLK
    case .fifo: type = Glibc.S_IFIFO
    case .socket: type = Glibc.S_IFSOCK
    }
    archive_entry_set_filetype(entry, UInt32(type))
    archive_entry_set_perm(entry, mode_t(permissions))
    archive_entry_set_size(entry, kind == .regular ? size : 0)
    archive_entry_set_mtime(entry, time_t(modificationTime), 0)
    archive_entry_set_uid(entry, uid)
    archive_entry_set_gid(entry, gid)
    if kind == .symbolicLink { archive_entry_set_symlink(entry, linkTarget) }
    if kind == .hardLink { archive_entry_set_hardlink(entry, linkTarget) }
    return try body(entry)
  }
}
