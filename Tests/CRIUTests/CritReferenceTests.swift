import CRIU
import CheckpointKit
import Foundation
import SwiftProtobuf
import SystemSupport
import TestSupport
import Testing

/// crit 4.2's `decode --pretty` of every image of six fixtures (`Tests/Fixtures/crit/<fixture>/<image>.json`) is
/// the specification of `decode --pretty` and `encode`.
@Suite struct CritReferenceTests {
  static let fixtures = [
    "busybox-sleep": "busybox-sleep.tar", "busybox-ptree": "busybox-ptree.tar", "debian-net": "debian-net.tar.gz",
    "busybox-tty": "busybox-tty.tar", "busybox-shm": "busybox-shm.tar.gz", "busybox-diff-1": "busybox-diff-1.tar",
  ]

  /// One reference: the fixture, the image name and crit's text.
  struct Reference {
    var fixture: String
    var image: String
    var text: String
  }

  static func references(_ fixture: String) throws -> [Reference] {
    let directory = Fixtures.path("crit/" + fixture)
    return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
      .map { name in
        Reference(
          fixture: fixture, image: String(name.dropLast(5)),
          text: try String(contentsOfFile: directory + "/" + name, encoding: .utf8))
      }
  }

  /// Every protobuf image of the six fixtures has its crit decode: 169 in all.
  @Test func everyImageHasAReference() throws {
    var total = 0
    for (fixture, archive) in Self.fixtures {
      let source = try FixtureImages.open(archive)
      let images = Set(FixtureImages.protobufImages(source))
      let references = Set(try Self.references(fixture).map(\.image))
      #expect(images == references, "\(fixture)")
      total += references.count
    }
    #expect(total == 169)
  }

  /// `decode --pretty` of each image equals crit's JSON, key by key with values exactly equal.
  @Test(arguments: CritReferenceTests.fixtures.keys.sorted())
  func prettyDecodeEqualsCrit(_ fixture: String) throws {
    let source = try FixtureImages.open(try #require(Self.fixtures[fixture]))
    for reference in try Self.references(fixture) {
      let image = try ImageFile(decoding: source.bytes(of: "checkpoint/" + reference.image))
      let ours = try OrderedJSON(parsing: ImageJSON.decode(image, pretty: true))
      let crit = try OrderedJSON(parsing: reference.text)
      let difference = CritComparison.firstDifference(ours, crit)
      #expect(difference == nil, "\(fixture)/\(reference.image): \(difference ?? "")")
    }
  }

  /// Beyond equal values, the text is crit's byte for byte (key order, four-space indent, ASCII escapes).
  @Test(arguments: CritReferenceTests.fixtures.keys.sorted())
  func prettyTextIsCritsByteForByte(_ fixture: String) throws {
    let source = try FixtureImages.open(try #require(Self.fixtures[fixture]))
    for reference in try Self.references(fixture) {
      let image = try ImageFile(decoding: source.bytes(of: "checkpoint/" + reference.image))
      #expect(try ImageJSON.decode(image, pretty: true) == reference.text, "\(fixture)/\(reference.image)")
    }
  }

  /// `encode` of crit's pretty JSON gives back the image byte for byte, and so does encode of plain `decode`.
  @Test(arguments: CritReferenceTests.fixtures.keys.sorted())
  func encodeOfCritJSONRebuildsTheImage(_ fixture: String) throws {
    let source = try FixtureImages.open(try #require(Self.fixtures[fixture]))
    for reference in try Self.references(fixture) {
      let original = try source.bytes(of: "checkpoint/" + reference.image)
      let rebuilt = try ImageJSON.encode(Array(reference.text.utf8)).encoded()
      #expect(rebuilt == original, "\(fixture)/\(reference.image)")
      let plain = try ImageJSON.decode(ImageFile(decoding: original), pretty: false)
      #expect(try ImageJSON.encode(Array(plain.utf8)).encoded() == original, "\(fixture)/\(reference.image) plain")
    }
  }

  @Test func comparisonFindsTheFirstDifferenceByPath() throws {
    let crit = try OrderedJSON(parsing: #"{"a": {"b": [1, "0x10"], "c": true}, "d": "x"}"#)
    // Key order does not matter.
    let reordered = try OrderedJSON(parsing: #"{"d": "x", "a": {"c": true, "b": [1, "0x10"]}}"#)
    #expect(CritComparison.firstDifference(reordered, crit) == nil)
    // A number is not the string crit writes.
    let number = try OrderedJSON(parsing: #"{"a": {"b": [1, 16], "c": true}, "d": "x"}"#)
    #expect(CritComparison.firstDifference(number, crit) == #".a.b[1]: ours 16, crit "0x10""#)
    let missing = try OrderedJSON(parsing: #"{"a": {"b": [1, "0x10"]}, "d": "x"}"#)
    #expect(CritComparison.firstDifference(missing, crit) == ".a.c: missing (crit: true)")
    let extra = try OrderedJSON(parsing: #"{"a": {"b": [1, "0x10"], "c": true, "e": 0}, "d": "x"}"#)
    #expect(CritComparison.firstDifference(extra, crit) == ".a.e: not in crit (ours: 0)")
    let shorter = try OrderedJSON(parsing: #"{"a": {"b": [1], "c": true}, "d": "x"}"#)
    #expect(CritComparison.firstDifference(shorter, crit) == ".a.b: 1 elements, crit 2")
  }
}

/// Compares decoded JSON with crit's.
enum CritComparison {
  /// The JSON path and values of the first difference between `ours` and `crit` (walking crit's order), or nil
  /// when they are equal: object keys in any order, values exactly equal (a string is never a number).
  static func firstDifference(_ ours: OrderedJSON, _ crit: OrderedJSON, at path: String = "") -> String? {
    switch (ours, crit) {
    case (.object(let mine), .object(let theirs)):
      for (key, value) in theirs {
        guard let found = mine.first(where: { $0.0 == key })?.1 else {
          return "\(path).\(key): missing (crit: \(value.rendered()))"
        }
        if let difference = firstDifference(found, value, at: path + "." + key) { return difference }
      }
      if let (key, value) = mine.first(where: { member in !theirs.contains { $0.0 == member.0 } }) {
        return "\(path).\(key): not in crit (ours: \(value.rendered()))"
      }
      if mine.count != theirs.count { return "\(path): duplicate keys" }
      return nil
    case (.array(let mine), .array(let theirs)):
      guard mine.count == theirs.count else { return "\(path): \(mine.count) elements, crit \(theirs.count)" }
      for (index, (left, right)) in zip(mine, theirs).enumerated() {
        if let difference = firstDifference(left, right, at: "\(path)[\(index)]") { return difference }
      }
      return nil
    default:
      return ours == crit ? nil : "\(path): ours \(ours.rendered()), crit \(crit.rendered())"
    }
  }
}
