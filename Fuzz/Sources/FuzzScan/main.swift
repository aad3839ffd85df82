import FuzzHarness

/// libFuzzer's entry point for target `scan`: see ``FuzzHarness/scan(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.scan(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
