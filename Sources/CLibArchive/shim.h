#ifndef CHECKPOINTCTL_CLIBARCHIVE_SHIM_H
#define CHECKPOINTCTL_CLIBARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
