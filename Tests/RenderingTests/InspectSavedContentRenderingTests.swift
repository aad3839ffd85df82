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
}
