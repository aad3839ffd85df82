import FuzzHarness

/// libFuzzer's entry point for target `kubelet`: see ``FuzzHarness/kubelet(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  FuzzHarness.kubelet(start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
  return 0
}
