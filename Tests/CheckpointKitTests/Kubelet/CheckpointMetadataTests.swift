import Archive
import CRIU
import CheckpointKit
import SystemSupport
import TestSupport
import Testing

@Suite struct CheckpointMetadataTests {
  @Test func unknownFieldsSurviveARoundTrip() throws {
    let text = """
      {"version": 3, "future": {"a": [1, 2.5, null, true]}, "CheckpointedPods": [
        {"SandboxID": "s1", "io.kubernetes.pod.name": "p", "hostIP": "10.0.0.1", "podIPs": ["10.1.0.2"],
         "Containers": [{"io.kubernetes.container.name": "c", "Image": "i", "extra": 18446744073709551615}]},
        {"SandboxID": "s2", "Containers": null}]}
      """
    let metadata = try CheckpointMetadata(json: Array(text.utf8), source: "t")
    let again = try CheckpointMetadata(json: metadata.serialized(), source: "t")
    #expect(again == metadata)
    #expect(again.fields["future"] == .object(["a": .array([.integer(1), .number(2.5), .null, .bool(true)])]))
    #expect(again.pods[0].fields["hostIP"] == .string("10.0.0.1"))
    #expect(again.pods[0].containers[0].fields["extra"] == .unsigned(UInt64.max))
    #expect(again.pods[1].fields["Containers"] == .null)
    #expect(again.version == .integer(3))
  }

  @Test func writesGoStyleIndentationInStructOrder() throws {
    let text =
      #"{"CheckpointedPods":[{"zzz":1,"Containers":[],"SandboxID":"s","io.kubernetes.pod.uid":"u"}],"version":1}"#
    let metadata = try CheckpointMetadata(json: Array(text.utf8), source: "t")
    let expected = """
      {
        "version": 1,
        "CheckpointedPods": [
          {
            "io.kubernetes.pod.uid": "u",
            "SandboxID": "s",
            "Containers": [],
            "zzz": 1
          }
        ]
      }

      """
    #expect(String(decoding: metadata.serialized(), as: UTF8.self) == expected)
  }

  @Test func matchesKeysCaseInsensitivelyLikeGo() throws {
    let text =
      #"{"checkpointedpods":[{"sandboxid":"abc","IO.KUBERNETES.POD.NAME":"n","containers":[{"image":"img"}]}]}"#
    let metadata = try CheckpointMetadata(json: Array(text.utf8), source: "t")
    #expect(metadata.pods.count == 1)
    #expect(metadata.pods[0].sandboxID == "abc")
    #expect(metadata.pods[0].name == "n")
    #expect(metadata.pods[0].containers[0].image == "img")
    // The pod list is written back under the key it was read from.
    let again = try CheckpointMetadata(json: metadata.serialized(), source: "t")
    #expect(again.fields["CheckpointedPods"] == nil)
    #expect(again.pods == metadata.pods)
  }

  @Test(arguments: [
    ("not json", "not valid JSON"),
    ("[]", "the top level is an array, not an object"),
    (#"{"CheckpointedPods": {}}"#, "CheckpointedPods is an object, not an array"),
    (#"{"CheckpointedPods": [1]}"#, "pod 1 is a number, not an object"),
    (#"{"CheckpointedPods": [{"SandboxID": 5}]}"#, "SandboxID of pod 1 is a number, not a string"),
    (
      #"{"CheckpointedPods": [{"Containers": [{"io.kubernetes.container.restartCount": "x"}]}]}"#,
      "io.kubernetes.container.restartCount of container 1 of pod 1 is a string, not an integer"
    ),
    (#"{"version": "1"}"#, "version is a string, not an integer"),
  ])
  func rejectsInvalidMetadata(_ text: String, _ reason: String) {
    #expect(throws: KubeletStoreError.invalidMetadata(source: "f", reason: reason)) {
      try CheckpointMetadata(json: Array(text.utf8), source: "f")
    }
  }

  @Test(arguments: ["", ".", "..", "a/b", "../x", "x\0y"])
  func unsafeSandboxIDsNameNoFile(_ id: String) throws {
    let text = #"{"CheckpointedPods":[{"SandboxID":"# + JSONValue.quote(id) + "}]}"
    let metadata = try CheckpointMetadata(json: Array(text.utf8), source: "t")
    #expect(metadata.pods[0].archiveName == nil)
  }
}
