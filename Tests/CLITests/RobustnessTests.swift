import CheckpointKit
import Foundation
import TestSupport
import Testing

/// Corrupted checkpoints never trap: every command exits 0 or 1, and a failure is one `Error:` line.
@Suite struct RobustnessTests {
  enum Damage: String, CaseIterable, Sendable {
    case truncated, flipped, hugeSize
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var member: String
    var damage: Damage
    var testDescription: String { "\(member) \(damage.rawValue)" }
  }

  static let members = [
    "checkpoint/pstree.img", "checkpoint/core-1.img", "checkpoint/mm-1.img", "checkpoint/pagemap-1.img",
    "checkpoint/files.img", "checkpoint/fdinfo-2.img", "checkpoint/inventory.img", "config.dump", "spec.dump",
    "stats-dump",
  ]
  static let cases = members.flatMap { member in Damage.allCases.map { Case(member: member, damage: $0) } }

  static func damage(_ bytes: [UInt8], _ damage: Damage) -> [UInt8] {
    var bytes = bytes
    switch damage {
    case .truncated:
      return Array(bytes.prefix(bytes.count / 2))
    case .flipped:
      for index in stride(from: 3, to: bytes.count, by: max(1, bytes.count / 7)) { bytes[index] ^= 0xA5 }
      return bytes
    case .hugeSize:
      // The first entry's size field (after the 8-byte magic) claims 4 GiB.
      for index in 8..<min(12, bytes.count) { bytes[index] = 0xFF }
      return bytes
    }
  }

  @Test(arguments: cases)
  func everyCommandFailsCleanly(_ testCase: Case) throws {
    let directory = try TemporaryDirectory()
    let members = try TestArchive.read(Fixtures.path("busybox-needle.tar")).compactMap {
      entry, data -> TestArchive.Member? in
      switch entry.kind {
      case .regular:
        return .file(entry.path, entry.path == testCase.member ? Self.damage(data, testCase.damage) : data)
      case .directory: return .directory(entry.path)
      default: return nil
      }
    }
    try TestArchive.write(members, to: directory.file("damaged.tar"))
    let commands: [[String]] = [
      ["show"], ["inspect", "--all"], ["inspect", "--all", "--format", "json"], ["memparse"],
      ["memparse", "-s", "MEMPARSE_NEEDLE"], ["memparse", "--pid", "1"], ["decode"],
    ]
    for command in commands {
      let result = try CLI.run(command + [directory.file("damaged.tar")])
      let label = "\(command.joined(separator: " ")) on \(testCase.testDescription)"
      #expect(!result.signaled, "\(label) was killed by a signal")
      #expect(result.status == 0 || result.status == 1, "\(label) exited \(result.status)")
      #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Backtrac"), "\(label)")
      if result.status == 1 {
        #expect(result.stderr.hasPrefix("Error: "), "\(label): \(result.stderr)")
        #expect(!result.stderr.contains("checkpointctl-pages"), "\(label) leaked a temp path")
      }
    }
  }
}
