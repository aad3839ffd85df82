// Clients of CheckpointKit see the CRIU layer's types (JSONValue, images) without a second import.
@_exported import CRIU
