import Archive
import CRIU
import CheckpointKit
import SystemSupport
import TestSupport
import Testing

@Suite struct MemoryReaderTests {
  struct Needle: Sendable, CustomTestStringConvertible {
    var fixture: String
    var pid: UInt32
    var address: UInt64
    var text: String
    var testDescription: String { "\(fixture) pid \(pid) 0x\(String(address, radix: 16))" }
  }

  /// The addresses MANIFEST.md documents (cross-checked there against /proc/PID/mem before the dump).
  static let needles: [Needle] = [
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x25bf_db10, text: "MEMPARSE_NEEDLE_7f3a9c_exported"),
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x25bf_e902, text: "MEMPARSE_NEEDLE_7f3a9c_shellvar"),
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x25bf_e970, text: "MEMPARSE_NEEDLE_7f3a9c_exported"),
    Needle(fixture: "busybox-needle.tar", pid: 1, address: 0x7ffe_b30c_df91, text: "MEMPARSE_NEEDLE_7f3a9c_env"),
    Needle(fixture: "busybox-needle.tar", pid: 7, address: 0x7ffd_b388_5f6d, text: "MEMPARSE_NEEDLE_7f3a9c_exported"),
    Needle(fixture: "busybox-needle.tar", pid: 7, address: 0x7ffd_b388_5f9a, text: "MEMPARSE_NEEDLE_7f3a9c_env"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x3415_d8f0, text: "MEMHOG_NEEDLE_mid_7f3a9c"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x3415_d937, text: "MEMHOG_NEEDLE_straddle_7f3a9c"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x3415_d983, text: "MEMHOG_NEEDLE_tail_7f3a9c"),
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_53b2_3456, text: "MEMHOG_NEEDLE_mid_7f3a9c"),
    // Crosses a page boundary (and pagemap entries are split inside this region).
    Needle(
      fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_53de_7ff6, text: "MEMHOG_NEEDLE_straddle_7f3a9c"),
    // The last bytes of the 64 MiB region.
    Needle(fixture: "busybox-memhog64.tar.zst", pid: 1, address: 0x7fdb_579f_ffc0, text: "MEMHOG_NEEDLE_tail_7f3a9c"),
    Needle(fixture: "busybox-shm.tar.gz", pid: 1, address: 0x7fe5_a593_4010, text: "PRIVATE_NEEDLE_7f3a9c"),
    Needle(fixture: "busybox-shm.tar.gz", pid: 6, address: 0x7fe5_a593_4010, text: "PRIVATE_NEEDLE_7f3a9c"),
  ]

  @Test(arguments: needles)
  func readsNeedlesAtDocumentedAddresses(_ needle: Needle) throws {
    let memory = try FixtureImages.open(needle.fixture).memory(pid: needle.pid)
    let bytes = try memory.read(address: needle.address, count: needle.text.utf8.count)
    #expect(String(decoding: bytes, as: UTF8.self) == needle.text)
  }

  @Test func readsAnonymousSharedMemory() throws {
    let source = try FixtureImages.open("busybox-shm.tar.gz")
    for pid: UInt32 in [1, 6] {
      let memory = try source.memory(pid: pid)
      // CRIU 4 dumps MAP_SHARED|MAP_ANONYMOUS memory as a memfd of /dev/zero.
      let shared = try #require(
        memory.vmas.first { $0.status & ProcessMemory.memfd != 0 && $0.end - $0.start == 1 << 20 })
      #expect(memory.sharedMappings[shared.start] != nil)
      let needle = try memory.read(address: shared.start + 0x2000, count: 24)
      #expect(String(decoding: needle, as: UTF8.self) == "SHMEM_ANON_NEEDLE_7f3a9c")
      // The child's write is visible to both: the object is shared.
      #expect(try memory.read(address: shared.start + 0x3000, count: 1) == [UInt8(ascii: "C")])
      #expect(try memory.read(address: shared.start + 0x4000, count: 2) == [0x5A, 0x5A])
    }
  }

  @Test func unmappedAddressesAreErrors() throws {
    let memory = try FixtureImages.open("busybox-needle.tar").memory(pid: 1)
    #expect(throws: MemoryError.unmapped(address: 0x10)) { try memory.read(address: 0x10, count: 4) }
  }

  @Test func followsCompatAndParentRules() throws {
    // Built with the project's own encoder: CRIU < 4 wrote only compat_nr_pages; PE_PARENT pages come from
    // the parent; present pages are numbered in file order, skipping parent ones.
    var head = PagemapHead()
    head.pagesID = 1
    var old = PagemapEntry()
    old.vaddr = 0x1000
    old.compatNrPages = 2
    var parent = PagemapEntry()
    parent.vaddr = 0x3000
    parent.nrPages = 1
    parent.flags = 1
    var lazy = PagemapEntry()
    lazy.vaddr = 0x4000
    lazy.nrPages = 1
    lazy.flags = 2
    var present = PagemapEntry()
    present.vaddr = 0x5000
    present.nrPages = 1
    present.flags = 4
    let image = ImageFile(
      kind: try #require(ImageKind.named("PAGEMAP")), head: head,
      entries: [old, parent, lazy, present].map { ImageEntry(message: $0) })
    let decoded = try ImageFile(decoding: image.encoded())
    let map = try PageMap(image: decoded)
    #expect(map.regions.map(\.fileOffset) == [0, nil, nil, 8192])
    #expect(map.presentBytes == 3 * 4096)
    let pages = (0..<3).flatMap { [UInt8](repeating: UInt8($0 + 1), count: 4096) }
    var parentHead = PagemapHead()
    parentHead.pagesID = 1
    var parentEntry = PagemapEntry()
    parentEntry.vaddr = 0x3000
    parentEntry.nrPages = 1
    parentEntry.flags = 4
    let parentMap = try PageMap(
      image: ImageFile(
        kind: try #require(ImageKind.named("PAGEMAP")), head: parentHead, entries: [ImageEntry(message: parentEntry)]))
    let parentReader = MemoryReader(pageMap: parentMap, pages: InMemoryBytes([UInt8](repeating: 9, count: 4096)))
    let reader = MemoryReader(pageMap: map, pages: InMemoryBytes(pages), parent: parentReader)
    #expect(try reader.read(address: 0x1fff, count: 2) == [1, 2])
    #expect(try reader.read(address: 0x3000, count: 1) == [9])
    #expect(try reader.read(address: 0x5000, count: 1) == [3])
    #expect(throws: MemoryError.lazy(address: 0x4000)) { try reader.read(address: 0x4000, count: 1) }
    #expect(throws: MemoryError.missingParent(address: 0x3000)) {
      try MemoryReader(pageMap: map, pages: InMemoryBytes(pages)).read(address: 0x3000, count: 1)
    }
  }
}
