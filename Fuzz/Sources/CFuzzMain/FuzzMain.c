// SwiftPM links a Linux executable with `main` aliased to `<Module>_main` (the entry point it asks the Swift
// compiler to emit), but a library-style module (`-parse-as-library`, needed by `@_cdecl` targets) has none.
// These are those entry points: each hands the command line to libFuzzer's driver with the module's
// `LLVMFuzzerTestOneInput`. Where SwiftPM does not alias `main`, libFuzzer's own `main` runs and they are unused.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ENTRY(module) \
  int module##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

FUZZ_ENTRY(FuzzCRIUImage)
FUZZ_ENTRY(FuzzMemory)
FUZZ_ENTRY(FuzzCoreDump)
FUZZ_ENTRY(FuzzArchive)
FUZZ_ENTRY(FuzzKubelet)
FUZZ_ENTRY(FuzzContainerMetadata)
FUZZ_ENTRY(FuzzEncode)
FUZZ_ENTRY(FuzzOCI)
FUZZ_ENTRY(FuzzPod)
FUZZ_ENTRY(FuzzScan)
