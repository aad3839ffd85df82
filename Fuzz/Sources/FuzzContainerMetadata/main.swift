import FuzzHarness

/// libFuzzer's entry point for target `container-metadata`: see ``FuzzHarness/containerMetadata(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.containerMetadata(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
