import Foundation
import TestSupport
import Testing

@testable import CheckpointKit

/// `--ps-tree-cmd`/`--ps-tree-env` on a compressed archive keep only the pages of argv and the environment.
@Suite struct ArgumentPagesTests {
  @Test func compressedArchivesKeepOnlyArgumentPages() throws {
    let directory = try TemporaryDirectory()
    let members = try TestArchive.read(Fixtures.path("busybox-ptree.tar")).compactMap {
      entry, data -> TestArchive.Member? in
      entry.kind == .regular ? .file(entry.path, data) : nil
    }
    try TestArchive.write(members, to: directory.file("ptree.tar.zst"), compression: .zstd)
    var options = InspectOptions()
    options.psTreeCmd = true
    options.psTreeEnv = true
    let source = try CheckpointSource(path: directory.file("ptree.tar.zst"), selection: options.selection)
    var sparse = 0
    for name in source.memberNames where CheckpointLayout.isPages(name) {
      guard case .sparse(let bytes)? = source.members[name] else {
        Issue.record("\(name) was kept whole")
        continue
      }
      sparse += 1
      // Far less than the whole file is kept: at most the two or three pages of argv and env.
      #expect(bytes.size > 0)
    }
    #expect(sparse == 7)
    // The output is the same as from the uncompressed archive.
    let plain = try InspectReport(path: Fixtures.path("busybox-ptree.tar"), options: options)
    let packed = try InspectReport(path: directory.file("ptree.tar.zst"), options: options)
    #expect(
      InspectReport.json([plain])
        == InspectReport.json([packed]).replacingOccurrences(
          of: directory.file("ptree.tar.zst"), with: Fixtures.path("busybox-ptree.tar")))
    let json = InspectReport.json([packed])
    #expect(json.contains("SECRET_TOKEN"))
    #expect(json.contains("hunter2"))
  }
}
