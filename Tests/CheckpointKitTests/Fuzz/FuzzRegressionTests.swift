import Foundation
import TestSupport
import Testing

/// Every input a fuzz target ever crashed, leaked or hung on (`Fuzz/Regressions/<target>/`, where `make fuzz`
/// puts them) and every seed of its corpus (`Fuzz/Corpus/<target>/`) goes through the target's code path again
/// (``FuzzHarness``, the file the fuzz targets are built from): a trap kills the test run, a hang fails the time
/// bound.
@Suite struct FuzzRegressionTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var target: String
    var path: String
    var testDescription: String { "\(target)/\(URL(fileURLWithPath: path).lastPathComponent)" }
  }

  static let fuzzRoot = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz").path

  /// The target directories under `Fuzz/<kind>/`.
  static func targetDirectories(_ kind: String) -> [String] {
    let root = fuzzRoot + "/" + kind
    return ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { name in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }.sorted()
  }

  static func cases(_ kind: String) -> [Case] {
    targetDirectories(kind).flatMap { target -> [Case] in
      let directory = fuzzRoot + "/" + kind + "/" + target
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map {
        Case(target: target, path: directory + "/" + $0)
      }
    }
  }

  /// Every regression and corpus directory belongs to a target, every target has a seed corpus, and the
  /// regression cases are found (a renamed directory must not silently drop them).
  @Test func directoriesNameTargets() {
    let targets = Set(FuzzHarness.targets.keys)
    #expect(targets.count == 10)
    #expect(Set(Self.targetDirectories("Corpus")) == targets)
    #expect(Set(Self.targetDirectories("Regressions")).isSubset(of: targets))
    for target in targets {
      #expect(Self.cases("Corpus").contains { $0.target == target }, "\(target) has no seeds")
    }
  }

  @Test(arguments: cases("Regressions") + cases("Corpus"))
  func replays(_ testCase: Case) throws {
    let bytes = try Files.read(testCase.path)
    let run = try #require(FuzzHarness.targets[testCase.target])
    let started = Date()
    run(bytes)
    // `make fuzz` fails an input that takes 10 s (-timeout=10) in an instrumented build.
    #expect(Date().timeIntervalSince(started) < 10)
  }

  /// The splitter the multi-file targets use: parts at each separator, missing ones empty.
  @Test func partsSplitAtTheSeparator() {
    let separator = FuzzHarness.separator
    let input = Array("a".utf8) + separator + Array("bc".utf8) + separator + separator + Array("d".utf8)
    #expect(FuzzHarness.parts(input, count: 5) == [[0x61], [0x62, 0x63], [], [0x64], []])
    #expect(FuzzHarness.parts(input, count: 2) == [[0x61], Array("bc".utf8) + separator + separator + [0x64]])
    #expect(FuzzHarness.parts([], count: 2) == [[], []])
  }
}
