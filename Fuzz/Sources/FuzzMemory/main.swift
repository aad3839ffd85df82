import FuzzHarness

/// libFuzzer's entry point for target `memory`: see ``FuzzHarness/memory(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.memory(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
