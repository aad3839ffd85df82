#ifndef CHECKPOINTCTL_CSYSTEMSHIMS_H
#define CHECKPOINTCTL_CSYSTEMSHIMS_H

/// Starts asynchronous write-back of a file range (Linux sync_file_range with SYNC_FILE_RANGE_WRITE), so a later
/// fsync finds the data already on its way to the device. Returns 0, or -1 with errno set.
int checkpointctl_start_writeback(int fd, long long offset, long long length);

/// Renames `from` to `to` unless `to` exists (Linux renameat2 with RENAME_NOREPLACE): a directory moved into place
/// never replaces one. Returns 0, or -1 with errno set.
int checkpointctl_rename_noreplace(const char *from, const char *to);

#endif
