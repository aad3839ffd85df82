#ifndef CHECKPOINTCTL_CSYSTEMSHIMS_H
#define CHECKPOINTCTL_CSYSTEMSHIMS_H

/// Starts asynchronous write-back of a file range (Linux sync_file_range with SYNC_FILE_RANGE_WRITE), so a later
/// fsync finds the data already on its way to the device. Returns 0, or -1 with errno set.
int checkpointctl_start_writeback(int fd, long long offset, long long length);

#endif
