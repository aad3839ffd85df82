import CRIU
import CheckpointKit
import TestSupport
import Testing

/// Values the fixtures' MANIFEST.md documents, read through the decoded images.
@Suite struct ManifestValueTests {
  @Test func processTreeOfBusyboxPtree() throws {
    let source = try FixtureImages.open("busybox-ptree.tar")
    let tree = try source.image("pstree.img").messages(PstreeEntry.self)
    #expect(Set(tree.map(\.pid)) == [1, 9, 10, 11, 12, 19, 20])
    #expect(tree.first { $0.pid == 1 }?.ppid == 0)
    // The two short-lived `sleep 1` of the loops in pid 1 and in the subshell pid 11.
    #expect(tree.first { $0.pid == 19 }?.ppid == 11)
    #expect(tree.first { $0.pid == 20 }?.ppid == 1)
    var comms: [UInt32: String] = [:]
    for entry in tree {
      comms[entry.pid] = try source.image("core-\(entry.pid).img").messages(CoreEntry.self).first?.tc.comm
    }
    #expect(comms[1] == "sh")
    #expect(comms[9] == "sleep")
    #expect(comms[12] == "sleep")
    #expect(comms[11] == "sh")
  }

  @Test func socketsOfDebianNet() throws {
    let files = try FixtureImages.open("debian-net.tar.gz").image("files.img").messages(FileEntry.self)
    let inet = files.filter { $0.hasIsk }.map(\.isk)
    let listening = Set(inet.filter { $0.state == 10 }.map(\.srcPort))
    #expect(listening == [8080, 8443, 9000])
    let v6 = try #require(inet.first { $0.srcPort == 8443 })
    #expect(v6.family == 10)
    #expect(v6.srcAddr == [0, 0, 0, 0])
    #expect(Set(inet.filter { $0.type == 2 }.map(\.srcPort)).isSuperset(of: [5353, 5354]))
    let unixNames = files.filter { $0.hasUsk }.map { [UInt8]($0.usk.name) }
    #expect(unixNames.contains([0] + Array("fx-abstract-dgram".utf8)))
    #expect(unixNames.contains(Array("/tmp/fx.sock".utf8) + [0]))
    let peer = try #require(inet.first { $0.dstPort == 7000 })
    #expect(CritText.address(peer.dstAddr) == "10.88.0.1")
  }

  @Test func zombieHasOnlyACore() throws {
    let source = try FixtureImages.open("raw/piggie")
    let core = try source.image("core-6.img").messages(CoreEntry.self).first
    #expect(core?.tc.taskState == 2)
    #expect(!source.contains("mm-6.img"))
    let pretty = try ImageJSON.decode(source.image("core-6.img"), pretty: true)
    // crit's name for CRIU's TASK_DEAD (2), which is what CRIU writes for a zombie.
    #expect(pretty.contains(#""task_state": "Dead""#))
  }

  @Test func memhogHasItsSixtyFourMiBRegion() throws {
    let source = try FixtureImages.open("busybox-memhog64.tar.zst")
    let mm = try #require(try source.image("mm-1.img").messages(MmEntry.self).first)
    #expect(mm.vmas.contains { $0.end - $0.start == 64 << 20 && $0.prot == 3 })
    let pagemap = try PageMap(image: source.image("pagemap-1.img"))
    #expect(pagemap.presentBytes >= 64 << 20)
  }
}
