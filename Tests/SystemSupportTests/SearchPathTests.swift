import Glibc
import SystemSupport
import TestSupport
import Testing

@Suite struct SearchPathTests {
  @Test func directoriesSkipEmptyEntriesAndAreMadeAbsolute() {
    let path = SearchPath("/usr/bin::bin:/sbin/:", currentDirectory: "/home/u")
    #expect(path.directories == ["/usr/bin", "/home/u/bin", "/sbin/"])
    #expect(SearchPath(nil).directories.isEmpty)
    #expect(SearchPath("").directories.isEmpty)
  }

  @Test func firstExecutableIsTheFirstExecutableRegularFile() throws {
    let directory = try TemporaryDirectory()
    for name in ["a", "b", "c"] { mkdir(directory.file(name), 0o755) }
    try Files.write(Array("#!/bin/sh\n".utf8), to: directory.file("a/tool"))
    chmod(directory.file("a/tool"), 0o644)
    mkdir(directory.file("b/tool"), 0o755)
    try Files.write(Array("#!/bin/sh\n".utf8), to: directory.file("c/tool"))
    chmod(directory.file("c/tool"), 0o755)
    symlink(directory.file("c/tool"), directory.file("b/link"))
    let path = SearchPath("a:b:c", currentDirectory: directory.path)
    #expect(path.firstExecutable(named: "tool") == directory.file("c/tool"))
    #expect(path.firstExecutable(named: "link") == directory.file("b/link"))
    #expect(path.firstExecutable(named: "missing") == nil)
    #expect(SearchPath.executableFile(directory.file("b/link")) == SearchPath.executableFile(directory.file("c/tool")))
    #expect(SearchPath.executableFile(directory.file("a/tool")) == nil)
  }
}
