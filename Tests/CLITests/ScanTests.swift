import Archive
import Foundation
import TestSupport
import Testing

/// `scan` end to end: exit statuses (0, 1, 2), the text (golden) and JSON, errors as one line.
@Suite struct ScanCLITests {
  @Test func findingsExitTwoAndReadAsTheGolden() throws {
    let result = try CLI.run(["scan", "--rules", "forensic.yar", "forensic-shared.tar"], in: Fixtures.root)
    #expect(result.status == 2)
    #expect(result.stderr == "")
    #expect(result.stdout == (try Fixtures.golden("scan/forensic.txt", actual: result.stdout)))
  }

  @Test func aCleanCheckpointExitsZero() throws {
    let result = try CLI.run(["scan", "--rules", "forensic.yar", "busybox-sleep.tar.gz"], in: Fixtures.root)
    #expect(result.status == 0)
    #expect(result.stdout == "busybox-sleep.tar.gz: 0 findings (0 suspicious, 0 info), 0 YARA matches\n")
  }

  @Test func aPodIsScannedContainerByContainer() throws {
    let result = try CLI.run(
      ["scan", "pods/crio-pod", "pods/legacy-pod.tar", "--container", "fx-sleep"], in: Fixtures.root)
    #expect(result.status == 0 && result.stderr == "")
    #expect(
      result.stdout == """
        pods/crio-pod (container "fx-sleep"): 0 findings (0 suspicious, 0 info), 0 YARA matches
        pods/legacy-pod.tar (container "fx-sleep"): 0 findings (0 suspicious, 0 info), 0 YARA matches

        """)
  }

  @Test func json() throws {
    let result = try CLI.run(
      ["scan", "--rules", "forensic.yar", "--format", "json", "forensic-shared.tar"], in: Fixtures.root)
    #expect(result.status == 2)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["source"] as? String == "forensic-shared.tar")
    let findings = try #require(object["findings"] as? [[String: Any]])
    #expect(findings.count == 12)
    #expect(Set(findings[0].keys) == ["kind", "severity", "pid", "process", "images", "detail", "evidence"])
    #expect(findings[0]["kind"] as? String == "rwx-memory" && findings[0]["severity"] as? String == "suspicious")
    let yara = try #require(object["yara"] as? [[String: Any]])
    #expect(yara.count == 4)
    #expect(
      Set(yara[0].keys) == [
        "pid", "process", "file", "rule", "tags", "string", "address", "vma", "permissions", "length", "match_hex",
        "match_text",
      ])
    #expect(
      yara[2]["match_hex"] as? String == "4831c04889c70f05" && yara[2]["address"] as? String == "0x00007e5a00000040")
    #expect(yara[0]["match_text"] as? String == "FX_YARA_MARKER_1 evil.example.com/payload")
  }

  @Test func badRulesAreOneErrorLine() throws {
    let work = try TemporaryDirectory()
    try Files.write(Array("rule x {\n  condition: $nothing\n}\n".utf8), to: work.file("bad.yar"))
    try Files.write(pseudoRandomBytes(count: 1 << 16), to: work.file("binary.yar"))
    for rules in [work.file("bad.yar"), work.file("binary.yar"), work.file("missing"), "/dev/null"] {
      let result = try CLI.run(["scan", "--rules", rules, Fixtures.path("busybox-sleep.tar")])
      #expect(result.status == 1, "\(rules)")
      #expect(result.stdout == "")
      #expect(result.stderr.hasPrefix("Error: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
      #expect(!result.signaled)
    }
    let bad = try CLI.run(["scan", "--rules", work.file("bad.yar"), Fixtures.path("busybox-sleep.tar")])
    // libyara names the line where it noticed (the closing brace), as the yara command does.
    #expect(bad.stderr.contains("bad.yar\", line 3: undefined string \"$nothing\""), "\(bad.stderr)")
  }

  /// libyara is loaded only for rules: without it, scanning with rules is one error, the indicators still work.
  @Test func withoutLibyaraRulesAreAnError() throws {
    let missing = ["CHECKPOINTCTL_LIBYARA": "/nonexistent/libyara.so.9"]
    let result = try CLI.run(
      ["scan", "--rules", "forensic.yar", "forensic-shared.tar"], in: Fixtures.root, environment: missing)
    #expect(result.status == 1 && result.stdout == "")
    #expect(
      result.stderr.hasPrefix("Error: YARA rules need libyara 4 (Debian package libyara9): /nonexistent/libyara.so.9"))
    let indicators = try CLI.run(["scan", "forensic-shared.tar"], in: Fixtures.root, environment: missing)
    #expect(indicators.status == 2 && indicators.stderr == "")
  }

  @Test func aCheckpointWithoutImagesIsAnError() throws {
    let work = try TemporaryDirectory()
    try TestArchive.copy(Fixtures.path("busybox-sleep.tar"), to: work.file("empty.tar")) { member, bytes in
      member.hasPrefix("checkpoint/") ? nil : .file(member, bytes)
    }
    let result = try CLI.run(["scan", work.file("empty.tar")])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains("empty.tar"), "\(result.stderr)")
    #expect(result.stderr.filter { $0 == "\n" }.count == 1)
  }

  @Test func theManualPageGivesTheExitStatuses() throws {
    let work = try TemporaryDirectory()
    #expect(try CLI.run(["generate-manual", work.file("man")]).status == 0)
    let page = String(decoding: try Files.read(work.file("man/checkpointctl-scan.1")), as: UTF8.self)
    #expect(page.contains("A rule matched or a suspicious finding was made"))
    #expect(page.contains(#"checkpointctl scan \-\-rules /etc/yara/rules \-\-format json"#))
  }

  @Test func anErrorWinsOverFindings() throws {
    let result = try CLI.run(["scan", "forensic-shared.tar", "missing.tar"], in: Fixtures.root)
    #expect(result.status == 1)
    #expect(result.stdout.hasPrefix("forensic-shared.tar: 12 findings"))
    #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains("missing.tar"))
  }
}
