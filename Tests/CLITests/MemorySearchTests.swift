import Archive
import CRIU
import CheckpointKit
import Foundation
import Rendering
import SystemSupport
import TestSupport
import Testing

@Suite struct MemorySearchTests {
  func search(
    _ fixture: String, _ pattern: SearchPattern, context: Int = 0, pid: UInt32? = nil,
    filter: MemoryFilter = MemoryFilter()
  ) throws -> [MemoryHit] {
    try MemorySearch.search(
      CheckpointSource(path: Fixtures.path(fixture)), pattern: pattern, context: context, pid: pid, filter: filter)
  }

  @Test func findsNeedlesInEveryProcessWithoutPid() throws {
    let hits = try search("busybox-needle.tar", SearchPattern(string: "MEMPARSE_NEEDLE_7f3a9c"))
    #expect(hits.map(\.pid) == [1, 1, 1, 1, 7, 7])
    #expect(
      hits.map(\.address) == [
        0x25bf_db10, 0x25bf_e902, 0x25bf_e970, 0x7ffe_b30c_df91, 0x7ffd_b388_5f6d, 0x7ffd_b388_5f9a,
      ])
    #expect(hits.map(\.vma) == ["[heap]", "[heap]", "[heap]", "[stack]", "[stack]", "[stack]"])
  }

  @Test func findsNeedlesAcrossPagesAndAtTheEnd() throws {
    let hits = try search("busybox-memhog64.tar.zst", SearchPattern(string: "MEMHOG_NEEDLE_"), context: 16)
    let addresses = Set(hits.map(\.address))
    #expect(addresses.isSuperset(of: [0x7fdb_53de_7ff6, 0x7fdb_579f_ffc0, 0x3415_d937]))
    let straddle = try #require(hits.first { $0.address == 0x7fdb_53de_7ff6 })
    #expect(SearchReport.printable(straddle.match + straddle.after).hasPrefix("MEMHOG_NEEDLE_straddle_7f3a9c"))
  }

  @Test func searchesSharedAndPrivateMemory() throws {
    let shared = try search("busybox-shm.tar.gz", SearchPattern(string: "SHMEM_ANON_NEEDLE_7f3a9c"))
    #expect(shared.map(\.pid) == [1, 6])
    #expect(shared.allSatisfy { $0.vma == "[memfd]" && $0.permissions == "rw-s" })
    let both = try search("busybox-shm.tar.gz", SearchPattern(regex: "(SHMEM_ANON|PRIVATE)_NEEDLE_7f3a9c"))
    #expect(both.count == 4)
    let onlyShared = try search(
      "busybox-shm.tar.gz", SearchPattern(regex: "(SHMEM_ANON|PRIVATE)_NEEDLE_7f3a9c"),
      filter: MemoryFilter(kinds: ["shared"], permissions: nil, addresses: nil))
    #expect(onlyShared.count == 2)
  }

  @Test func regexAndHexRunOnRawBytes() throws {
    // The environment block separates variables with NUL bytes; upstream replaced them with '?' before matching.
    let regex = try search("busybox-needle.tar", SearchPattern(regex: "NEEDLE_7f3a9c_env\\x00PATH="), pid: 1)
    #expect(regex.count == 1)
    let hex = try search("busybox-needle.tar", SearchPattern(hex: "5f 65 6e 76 00 50 41 54 48"), pid: 1)
    #expect(hex.map(\.address) == regex.map { $0.address + 13 })
    // A literal '?' matches only '?'.
    #expect(try search("busybox-needle.tar", SearchPattern(string: "7f3a9c_env?PATH"), pid: 1).isEmpty)
  }

  @Test func matchesAcrossChunkAndPagemapEntryBoundariesAreFound() throws {
    // Two pagemap entries of 256 pages each; the needle crosses both the 1 MiB read chunk and the entry border.
    let kinds = try #require(ImageKind.named("PAGEMAP"))
    var head = PagemapHead()
    head.pagesID = 1
    var first = PagemapEntry()
    first.vaddr = 0x10_0000
    first.nrPages = 256
    first.flags = 4
    var second = first
    second.vaddr = 0x20_0000
    let map = try PageMap(
      image: ImageFile(kind: kinds, head: head, entries: [first, second].map { ImageEntry(message: $0) }))
    var pages = [UInt8](repeating: 0, count: 2 << 20)
    let needle = Array("CROSSING_NEEDLE".utf8)
    pages.replaceSubrange((1 << 20) - 7..<(1 << 20) - 7 + needle.count, with: needle)
    var vma = VmaEntry()
    vma.start = 0x10_0000
    vma.end = 0x30_0000
    vma.prot = 3
    vma.flags = 0x22
    let memory = ProcessMemory(
      pid: 1, vmas: [vma], privateMemory: MemoryReader(pageMap: map, pages: InMemoryBytes(pages)), sharedMappings: [:])
    var found: [UInt64] = []
    for range in MemoryFilter().apply(memory.ranges(), memory: memory) {
      try MemorySearch.scan(range, memory: memory, pattern: SearchPattern(string: "CROSSING_NEEDLE")) {
        found.append($0.address)
      }
    }
    #expect(found == [0x20_0000 - 7])
  }

  @Test func filtersNarrowSearchAndHexdump() throws {
    let heap = try search(
      "busybox-needle.tar", SearchPattern(string: "MEMPARSE_NEEDLE_7f3a9c"),
      filter: MemoryFilter(kinds: ["heap"], permissions: "rw", addresses: nil))
    #expect(heap.count == 3)
    let window = try search(
      "busybox-needle.tar", SearchPattern(string: "MEMPARSE_NEEDLE_7f3a9c"),
      filter: MemoryFilter(kinds: [], permissions: nil, addresses: "25bfe000-25bff000"))
    #expect(window.map(\.address) == [0x25bf_e902, 0x25bf_e970])
    #expect(
      try search(
        "busybox-needle.tar", SearchPattern(string: "MEMPARSE_NEEDLE"),
        filter: MemoryFilter(kinds: [], permissions: "x", addresses: nil)
      ).isEmpty)
    let dump = try CLI.run(["memparse", "--pid", "1", "--vma", "stack", "busybox-needle.tar"], in: Fixtures.root)
    #expect(dump.status == 0)
    let addresses = dump.stdout.split(separator: "\n").dropFirst(5).compactMap { UInt64($0.prefix(16), radix: 16) }
    #expect(!addresses.isEmpty)
    #expect(addresses.allSatisfy { $0 >= 0x7ffe_b30a_d000 && $0 < 0x7ffe_b30c_e000 })
  }

  @Test func commandLineOutput() throws {
    let table = try CLI.run(
      ["memparse", "-s", "MEMPARSE_NEEDLE_7f3a9c", "-c", "4", "busybox-needle.tar"], in: Fixtures.root)
    #expect(table.status == 0)
    #expect(table.stdout == (try Fixtures.golden("memparse/busybox-needle-search.txt", actual: table.stdout)))
    let json = try CLI.run(
      ["memparse", "--search-regex", "SECRET_TOKEN=[a-z0-9]+", "--format", "json", "busybox-ptree.tar"],
      in: Fixtures.root)
    #expect(json.status == 0)
    let hits = try #require(try JSONValue(parsing: json.stdoutBytes).objectValue?["hits"]?.arrayValue)
    #expect(hits.count == 7)
    #expect(hits.allSatisfy { $0.objectValue?["match"] == .string("SECRET_TOKEN=hunter2") })
    let none = try CLI.run(["memparse", "-s", "not-in-memory", "--pid", "1", "busybox-needle.tar"], in: Fixtures.root)
    #expect(none.status == 0)
    #expect(none.stdout == "No matches for pattern \"not-in-memory\" in the memory of PID 1\n")
  }

  @Test(arguments: [
    (["memparse", "-s", "x", "--context=-1", "busybox-needle.tar"], "context size cannot be negative"),
    (["memparse", "-r", "([", "busybox-needle.tar"], "invalid regular expression"),
    (["memparse", "--search-hex", "4g", "busybox-needle.tar"], "hex pattern"),
    (["memparse", "-s", "x", "--vma", "bogus", "busybox-needle.tar"], "unknown VMA kind"),
    (["memparse", "-s", "x", "--address", "zz", "busybox-needle.tar"], "address range"),
    (["memparse", "-s", "x", "-r", "y", "busybox-needle.tar"], "only one of"),
    (["memparse", "-s", "x", "--pid", "6", "raw/piggie"], "zombie"),
  ])
  func searchErrors(_ arguments: [String], _ message: String) throws {
    let result = try CLI.run(arguments, in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)")
  }
}
