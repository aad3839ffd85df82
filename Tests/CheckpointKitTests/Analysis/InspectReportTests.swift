import CheckpointKit
import Rendering
import TestSupport
import Testing

@Suite struct InspectReportTests {
  @Test func treeDrawing() {
    let tree = Tree("root", [Tree("a", [Tree("a1"), Tree("a2")]), Tree("b", [Tree("b1")])])
    #expect(
      tree.rendered == """
        root
        ├── a
        │   ├── a1
        │   └── a2
        └── b
            └── b1

        """)
  }

  @Test(arguments: [
    (UInt64(0), "0 µs"), (677, "677 µs"), (999, "999 µs"), (1000, "1 ms"), (2163, "2.163 ms"),
    (3208, "3.208 ms"), (101_510, "101.51 ms"), (97_766, "97.766 ms"), (1_500_000, "1.5 s"), (12_345_678, "12.346 s"),
  ])
  func durations(_ microseconds: UInt64, _ text: String) {
    #expect(DumpStatistics.duration(microseconds: microseconds) == text)
  }

  @Test func networkStatus() {
    let json = """
      {"podman": {"interfaces": {"eth1": {"subnets": [{"ipnet": "10.89.0.2/24", "gateway": "10.89.0.1"}],
       "mac_address": "aa:bb:cc:dd:ee:ff"}, "eth0": {"subnets": [{"ipnet": "10.88.0.6/16", "gateway": "10.88.0.1"}],
       "mac_address": "ca:a0:3e:2b:85:47"}}}}
      """
    let status = NetworkStatus(parsing: Array(json.utf8))
    #expect(status.interfaces.map(\.interface) == ["eth0", "eth1"])
    #expect(
      status.interfaces.first
        == NetworkInterface(
          network: "podman", interface: "eth0", ip: "10.88.0.6/16", mac: "ca:a0:3e:2b:85:47", gateway: "10.88.0.1"))
    #expect(status.ip == "10.88.0.6, 10.89.0.2")
    #expect(status.mac == "ca:a0:3e:2b:85:47, aa:bb:cc:dd:ee:ff")
    #expect(NetworkStatus(parsing: Array("null".utf8)).networks.isEmpty)
    #expect(NetworkStatus(parsing: Array("{not json".utf8)).networks.isEmpty)
  }

  /// Upstream decodes into typed structs: every subnet's address counts, the last subnet gives the interface's
  /// address and gateway, networks are sorted by name, and a document of another shape gives no network.
  @Test func networkStatusAsUpstreamReadsIt() {
    let json = """
      {"net2": {"interfaces": {"eth1": {"subnets": [{"ipnet": "10.89.1.2/24", "gateway": "10.89.1.1"}],
       "mac_address": "5e:b7:fe:ee:e0:d8"}}},
       "net1": {"interfaces": {"eth0": {"subnets": [{"ipnet": "10.89.0.2/24", "gateway": "10.89.0.1"},
       {"ipnet": "fd00::2/64", "gateway": ""}], "mac_address": "32:ba:b8:45:bc:84"}}},
       "empty": {"interfaces": null}}
      """
    let status = NetworkStatus(parsing: Array(json.utf8))
    #expect(status.networks.map(\.name) == ["empty", "net1", "net2"])
    #expect(status.ip == "10.89.0.2, fd00::2, 10.89.1.2")
    #expect(status.mac == "32:ba:b8:45:bc:84, 5e:b7:fe:ee:e0:d8")
    #expect(status.networks[1].interfaces.first?.ip == "fd00::2/64")
    #expect(status.networks[1].interfaces.first?.gateway == "10.89.0.1")
    #expect(
      NetworkStatus(parsing: Array(#"{"podman": {"interfaces": {"eth0": {"mac_address": 5}}}}"#.utf8)).networks.isEmpty)
    #expect(NetworkStatus(parsing: Array("[]".utf8)).networks.isEmpty)
  }

  @Test func reportOfBusyboxPtree() throws {
    var options = InspectOptions.all
    options.files = false
    options.sockets = false
    let report = try InspectReport(path: Fixtures.path("busybox-ptree.tar"), options: options)
    #expect(report.checkpoint.name == "fx-ptree")
    #expect(report.statistics?.pagesScanned == 165)
    #expect(report.statistics?.pagesWritten == 116)
    #expect(
      report.mounts?.contains(
        SpecMount(
          destination: "/data", type: "bind",
          source: "/var/lib/containers/storage/volumes/fx-vol/_data")) == true)
    let root = try #require(report.processTree?.first)
    #expect(root.pid == 1)
    #expect(root.commandLine == "sh /ptree.sh")
    #expect(root.children.map(\.pid) == [9, 10, 11, 12, 20])
    #expect(root.children[2].children.map(\.commandLine) == ["sleep 1"])
    #expect(root.environment?.contains(EnvironmentVariable(name: "SECRET_TOKEN", value: "hunter2")) == true)
    let names = root.environment?.map(\.name) ?? []
    #expect(names == names.sorted())
  }
}

@Suite struct InspectExtensionsReportTests {
  @Test func extensionsOfBusyboxPtree() throws {
    var options = InspectOptions()
    options.threads = true
    options.memoryMaps = true
    options.rootFSDiff = true
    options.dumpLog = true
    options.pid = 12
    let report = try InspectReport(path: Fixtures.path("busybox-ptree.tar"), options: options)
    let process = try #require(report.processTree?.first)
    #expect(process.threads == [InspectedThread(tid: 12, name: "sleep")])
    let maps = try #require(process.memoryMaps)
    #expect(maps.map(\.start) == maps.map(\.start).sorted())
    #expect(maps.reduce(0) { $0 + $1.resident } == 16 * 4096)
    let heap = try #require(maps.first { $0.name == "[heap]" })
    #expect(heap.permissions == "rw-p" && heap.mapsLine.hasSuffix(" rw-p 00000000 [heap]"))
    #expect(maps.contains { $0.name == "/bin/busybox" && $0.permissions == "r-xp" })
    let diff = try #require(report.rootFSDiff)
    #expect(diff.deleted == ["/etc/delete-me.txt"])
    #expect(diff.files.map(\.path) == diff.files.map(\.path).sorted())
    #expect(diff.files.contains(RootFSDiff.File(path: "/var/lib/fxapp/state.json", size: 12, mode: "-rw-r--r--")))
    #expect(diff.files.contains(RootFSDiff.File(path: "/tmp/fifo", size: 0, mode: "prw-r--r--")))
    #expect(diff.files.contains(RootFSDiff.File(path: "/var/lib/fxapp", size: 0, mode: "drwxr-xr-x")))
    let criu = try #require(report.criu)
    #expect(
      criu
        == CRIUSummary(
          imageVersion: 2, plugins: [], lsmType: "NO_LSM", dumpRunID: "882f1aad-6143-421d-9c67-10ed70cdaf26",
          dumpLog: nil))
  }

  @Test func mapsLinePadsLikeProc() {
    let map = MemoryMapping(
      start: 0x400000, end: 0x401000, permissions: "r--p", offset: 0, name: "/bin/busybox", resident: 0)
    #expect(map.mapsLine == "00400000-00401000 r--p 00000000 /bin/busybox")
  }
}

@Suite struct InspectOptionsTests {
  @Test func selectionReadsOnlyWhatTheFlagsNeed() {
    let base = InspectOptions().selection
    #expect(base.memory("config.dump") && base.memory("spec.dump") && base.memory("network.status"))
    #expect(!base.memory("stats-dump") && !base.memory("checkpoint/pstree.img"))
    #expect(!base.memory("checkpoint/pages-1.img") && !base.randomAccess("checkpoint/pages-1.img"))

    var tree = InspectOptions()
    tree.pid = 1
    #expect(tree.showsProcessTree)
    #expect(tree.selection.memory("checkpoint/pstree.img") && tree.selection.memory("checkpoint/core-1.img"))
    #expect(!tree.selection.memory("checkpoint/mm-1.img") && !tree.selection.memory("checkpoint/files.img"))

    var commands = InspectOptions()
    commands.psTreeCmd = true
    #expect(commands.selection.memory("checkpoint/mm-1.img") && commands.selection.memory("checkpoint/pagemap-1.img"))
    #expect(
      !commands.selection.memory("checkpoint/pages-1.img") && commands.selection.randomAccess("checkpoint/pages-1.img"))

    let all = InspectOptions.all.selection
    for name in [
      "stats-dump", "checkpoint/files.img", "checkpoint/fdinfo-2.img", "checkpoint/fs-1.img", "checkpoint/ids-1.img",
    ] {
      #expect(all.memory(name), "\(name)")
    }
    for name in [
      "deleted.files", "dump.log", "checkpoint/inventory.img", "checkpoint/core-30.img",
      "checkpoint/mm-1.img", "checkpoint/pagemap-1.img",
    ] {
      #expect(all.memory(name), "\(name)")
    }
    #expect(!all.memory("checkpoint/seccomp.img") && !all.memory("volumes/fx-vol.tar"))
    #expect(all.randomAccess("rootfs-diff.tar") && !all.memory("rootfs-diff.tar"))
  }

  @Test func eachExtensionLoadsOnlyWhatItNeeds() {
    var threads = InspectOptions()
    threads.threads = true
    #expect(threads.showsProcessTree)
    #expect(threads.selection.memory("checkpoint/pstree.img") && threads.selection.memory("checkpoint/core-30.img"))
    #expect(!threads.selection.memory("checkpoint/mm-1.img") && !threads.selection.memory("checkpoint/files.img"))

    var mems = InspectOptions()
    mems.memoryMaps = true
    #expect(mems.showsProcessTree)
    for name in ["checkpoint/mm-1.img", "checkpoint/pagemap-1.img", "checkpoint/files.img"] {
      #expect(mems.selection.memory(name), "\(name)")
    }
    #expect(!mems.selection.memory("checkpoint/pages-1.img") && !mems.selection.randomAccess("checkpoint/pages-1.img"))
    #expect(!mems.selection.memory("checkpoint/fdinfo-2.img") && !mems.selection.randomAccess("rootfs-diff.tar"))

    var diff = InspectOptions()
    diff.rootFSDiff = true
    #expect(!diff.showsProcessTree)
    #expect(diff.selection.randomAccess("rootfs-diff.tar") && diff.selection.memory("deleted.files"))
    #expect(!diff.selection.randomAccess("checkpoint/pages-1.img"))
    #expect(!diff.selection.memory("checkpoint/pstree.img") && !diff.selection.memory("dump.log"))

    var log = InspectOptions()
    log.dumpLog = true
    #expect(!log.showsProcessTree)
    #expect(log.selection.memory("dump.log") && log.selection.memory("checkpoint/inventory.img"))
    #expect(!log.selection.memory("checkpoint/pstree.img") && !log.selection.randomAccess("rootfs-diff.tar"))
    #expect(!InspectOptions().selection.memory("dump.log") && !InspectOptions().selection.memory("deleted.files"))

    // The saved files and the container log are read where they lie, only for their views.
    var saved = InspectOptions()
    saved.log = true
    saved.devShm = true
    saved.volumes = true
    #expect(!saved.showsProcessTree)
    for name in ["ctr.log", "container.log", "io.kubernetes.cri-o.LogPath", "devshm-checkpoint.tar", "volumes/v.tar"] {
      #expect(saved.selection.randomAccess(name) && !saved.selection.memory(name))
      #expect(!InspectOptions().selection.randomAccess(name))
    }
    #expect(!saved.selection.randomAccess("volumes/notes.txt") && !saved.selection.randomAccess("volumes/a/b.tar"))
  }

  @Test func allImpliesTheProcessTreeButNotAPid() {
    let all = InspectOptions.all
    #expect(all.showsProcessTree && all.pid == nil && !all.psTree)
    #expect(all.stats && all.mounts && all.metadata && all.psTreeCmd && all.psTreeEnv && all.files && all.sockets)
    #expect(all.threads && all.memoryMaps && all.rootFSDiff && all.dumpLog && all.log && all.devShm && all.volumes)
    #expect(all.logLines == ContainerLog.defaultLines)
  }
}
