// Transitional, while the layers are split into modules: clients of CheckpointKit still see the lower layers.
@_exported import Archive
@_exported import CRIU
@_exported import SystemSupport
