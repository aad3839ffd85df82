import CRIU
import Glibc
import SystemSupport

/// CRIU image directories written by tests.
public enum CRIUFixtures {
  /// Writes an image directory with one process whose pages are `entries` (address, flags) and a pages file.
  public static func writeProcess(
    in directory: String, entries: [(UInt64, UInt32)], pages: [UInt8], kinds: (String) throws -> ImageKind
  ) throws {
    mkdir(directory, 0o700)
    var tree = PstreeEntry()
    tree.pid = 1
    try Files.write(
      try ImageFile(kind: kinds("PSTREE"), entries: [ImageEntry(message: tree)]).encoded(),
      to: directory + "/pstree.img")
    var vma = VmaEntry()
    vma.start = 0x1000
    vma.end = 0x3000
    vma.prot = 3
    var mm = MmEntry()
    mm.vmas = [vma]
    try Files.write(
      try ImageFile(kind: kinds("MM"), entries: [ImageEntry(message: mm)]).encoded(), to: directory + "/mm-1.img")
    var head = PagemapHead()
    head.pagesID = 1
    let pagemap = entries.map { address, flags -> ImageEntry in
      var entry = PagemapEntry()
      entry.vaddr = address
      entry.nrPages = 1
      entry.flags = flags
      return ImageEntry(message: entry)
    }
    try Files.write(
      try ImageFile(kind: kinds("PAGEMAP"), head: head, entries: pagemap).encoded(), to: directory + "/pagemap-1.img")
    try Files.write(pages, to: directory + "/pages-1.img")
  }
}
