import FuzzHarness

/// libFuzzer's entry point for target `encode`: see ``FuzzHarness/encode(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.encode(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
