import CheckpointKit
import SystemSupport
import Testing

@testable import Rendering

@Suite struct InspectSavedContentRenderingTests {
  /// A member of a saved tar on one line, whatever its name holds.
  @Test func archivedFileTree() {
    let file = ArchivedFile(path: "/tmp/a\nb\u{1B}[2J", size: 1536, mode: "-rw-r--r--")
    #expect(file.tree().text == "/tmp/a\\nb\\x1b[2J  (1.5 KiB, -rw-r--r--)")
    #expect(
      file.jsonValue == .object(["path": .string(file.path), "size": .integer(1536), "mode": .string("-rw-r--r--")]))
  }

  /// A first line cut by the read limit starts with `…`; every line is printable, whatever its bytes.
  @Test func containerLogTree() {
    let log = ContainerLog(
      name: "ctr.log", size: 5 << 20, lines: [Array("end of a long line".utf8), [0x61, 0x1B, 0xFE]],
      partialFirstLine: true)
    #expect(
      log.tree.rendered == """
        Container log (ctr.log, 5.0 MiB, last 2 lines)
        ├── …end of a long line
        └── a\\x1b\\xfe

        """)
    #expect(
      log.jsonValue
        == .object([
          "name": .string("ctr.log"), "size": .integer(5 << 20),
          "lines": .array([.string("end of a long line"), .string("a\u{1B}\u{FFFD}")]),
          "partial_first_line": .bool(true),
        ]))
    #expect(ContainerLog(name: "ctr.log", size: 0, lines: []).tree.rendered == "Container log (ctr.log, 0 B)\n")
  }

  @Test func savedDirectoryTree() {
    let files = [ArchivedFile(path: "a\tb", size: 3, mode: "-rw-------")]
    #expect(
      SavedDirectory(name: "v\u{1B}", destination: "", size: 2048, files: files).tree.rendered == """
        v\\x1b (volumes/v\\x1b.tar, 2.0 KiB, 1 entry)
        └── a\\tb  (3 B, -rw-------)

        """)
    #expect(
      SavedDirectory(name: "", destination: "/dev/shm", size: 1536, files: []).tree.rendered
        == "/dev/shm (devshm-checkpoint.tar, 1.5 KiB, 0 entries)\n")
  }
}
