import FuzzHarness

/// libFuzzer's entry point for target `criu-image`: see ``FuzzHarness/criuImage(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.criuImage(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
