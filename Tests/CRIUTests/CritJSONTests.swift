import CheckpointKit
import Foundation
import SwiftProtobuf
import SystemSupport
import TestSupport
import Testing

@testable import CRIU

/// crit's value forms, field options and the checks `encode` makes on hostile JSON.
@Suite struct CritJSONTests {
  // MARK: Text forms (expected values are Python 3's)

  @Test func quotedPrintableIsPythonsQuopri() throws {
    let cases: [([UInt8], String)] = [
      ([0] + Array("fx-abstract-dgram".utf8), "=00fx-abstract-dgram"),
      (Array("/tmp/fx.sock".utf8) + [0], "/tmp/fx.sock=00"),
      (Array("a b ".utf8), "a b=20"),
      ([UInt8](repeating: UInt8(ascii: "x"), count: 80), String(repeating: "x", count: 75) + "=\nxxxxx"),
      (Array("=\t.\n.".utf8), "=3D\t.\n=2E"),
      (Array("caf\u{e9}\r\nend ".utf8), "caf=C3=A9\r\nend=20"),
      (Array("a \r\nb".utf8), "a=20\r\nb"),
    ]
    for (bytes, text) in cases {
      #expect(CritText.quotedPrintable(bytes) == text)
      #expect(try CritText.unquotedPrintable(text) == bytes)
    }
    // Soft breaks vanish, broken escapes stay.
    #expect(try CritText.unquotedPrintable("a=\nb=4=3D=3d=ZZ==") == Array("ab=4===ZZ=".utf8))
    #expect(throws: CritValueError.self) { try CritText.unquotedPrintable("caf\u{e9}") }
  }

  @Test func base64IsPythonsEncodebytes() throws {
    let bytes = [UInt8](0..<58)
    let text = try #require(CritText.base64Lines(bytes) as String?)
    #expect(text == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOQ==\n")
    #expect(CritText.base64Lines([]) == "")
    #expect(try CritText.base64Bytes(text) == bytes)
    // Like `base64.decodebytes`: stray characters skipped, input after the padding ignored.
    #expect(try CritText.base64Bytes("Y Q = =") == [0x61])
    #expect(try CritText.base64Bytes("YWJjZA===xyz") == Array("abcd".utf8))
    #expect(throws: CritValueError.self) { try CritText.base64Bytes("YWJjZ") }
    #expect(throws: CritValueError.self) { try CritText.base64Bytes("YQ") }
  }

  @Test func integersReadLikePythonsInt() throws {
    let prefixed: [(String, CritInteger?)] = [
      ("0x1f", CritInteger(31)), ("0X1F", CritInteger(31)), ("-0x5", CritInteger(negative: true, magnitude: 5)),
      ("0o17", CritInteger(15)), ("0b101", CritInteger(5)), ("1_000", CritInteger(1000)), ("0x_ff", CritInteger(255)),
      (" 12 ", CritInteger(12)), ("+5", CritInteger(5)), ("000", CritInteger(0)),
      ("18446744073709551615", CritInteger(UInt64.max)), ("007", nil), ("_1", nil), ("1__0", nil), ("1_", nil),
      ("0x", nil), ("", nil), ("-", nil), ("12a", nil), ("1e3", nil), ("1.0", nil), ("18446744073709551616", nil),
      ("0x10000000000000000", nil),
    ]
    for (text, expected) in prefixed {
      #expect((try? CritText.integer(text, prefixed: true)) == expected, "\(text)")
    }
    #expect(try CritText.integer("007", prefixed: false) == CritInteger(7))
    #expect((try? CritText.integer("0x1f", prefixed: false)) == nil)
    #expect(CritInteger(negative: true, magnitude: 5).hex == "-0x5")
    #expect(CritInteger(0xFFFF_FFFF_FFFF_FFFC).hex == "0xfffffffffffffffc")
  }

  @Test func flagsDevicesAndAddresses() throws {
    let map = try #require(CritOption.flagTables["mmap.flags"])
    #expect(CritText.flagNames(0, table: map) == "")
    #expect(CritText.flagNames(0x22, table: map) == "MAP_PRIVATE | MAP_ANON")
    #expect(CritText.flagNames(0x1122, table: map) == "MAP_PRIVATE | MAP_ANON | MAP_GROWSDOWN | 0x1000")
    #expect(
      try CritText.flagValue("MAP_PRIVATE | MAP_ANON | MAP_GROWSDOWN | 0x1000", table: map) == CritInteger(0x1122))
    #expect(try CritText.flagValue("", table: map) == CritInteger(0))
    #expect(throws: CritValueError.self) { try CritText.flagValue("MAP_PRIVATE | BOGUS", table: map) }
    #expect(throws: CritValueError.self) { try CritText.flagValue("MAP_PRIVATE |", table: map) }

    #expect(CritText.device(44, old: false) == "0:44")
    #expect(CritText.device(8 << 20 | 1, old: false) == "8:1")
    #expect(try CritText.deviceNumber("8:1", old: false) == CritInteger(8 << 20 | 1))
    // glibc's makedev: makedev(8, 1) = 2049, makedev(4096, 256) = 17592187092992.
    #expect(CritText.device(2049, old: true) == "8:1")
    #expect(CritText.device(17_592_187_092_992, old: true) == "4096:256")
    #expect(CritText.device(0xFFFF_FFFF, old: true) == "4095:1048575")
    #expect(CritText.device(0x1234_5678, old: true) == "1110:74616")
    #expect(try CritText.deviceNumber("1110:74616", old: true) == CritInteger(0x1234_5678))
    #expect(try CritText.deviceNumber("4096:256", old: true) == CritInteger(17_592_187_092_992))
    #expect(try CritText.deviceNumber("1:2:3", old: false) == CritInteger(1 << 20 | 2))
    #expect(throws: CritValueError.self) { try CritText.deviceNumber("1", old: false) }
    #expect(throws: CritValueError.self) { try CritText.deviceNumber("a:b", old: false) }
    #expect(throws: CritValueError.self) { try CritText.deviceNumber("-1:0", old: false) }

    let addresses: [(String, [UInt32])] = [
      ("127.0.0.1", [0x0100_007F]), ("0.0.0.0", [0]), ("::", [0, 0, 0, 0]), ("::1", [0, 0, 0, 0x0100_0000]),
      ("1:0:0:1::1", [0x0000_0100, 0x0100_0000, 0, 0x0100_0000]),
      // Python 3.11's `compressed` of an IPv4-mapped address.
      ("::ffff:102:304", [0, 0, 0xFFFF_0000, 0x0403_0201]),
    ]
    for (text, words) in addresses {
      #expect(CritText.address(words) == text)
      #expect(try CritText.addressWords(text) == words)
    }
    #expect(try CritText.addressWords("::ffff:1.2.3.4") == [0, 0, 0xFFFF_0000, 0x0403_0201])
    #expect(CritText.address([1, 2]) == nil)
    for bad in ["01.2.3.4", "256.1.1.1", "1::2::3", "host"] {
      #expect(throws: CritValueError.self) { try CritText.addressWords(bad) }
    }
  }

  // MARK: Field options

  @Test func prettyFollowsTheFieldOptionsAndReadsBack() throws {
    var vma = VmaEntry()
    vma.start = 0x40_0000
    vma.end = 0x40_1000
    vma.pgoff = 4096
    vma.prot = 5
    vma.flags = 0x1122
    vma.status = 0
    vma.fd = -1
    vma.madv = 0x10000
    let vmaJSON = try CritJSON.object(vma, pretty: true)
    #expect(vmaJSON["start"] == .string("0x400000"))
    #expect(vmaJSON["pgoff"] == .number("4096"))
    #expect(vmaJSON["prot"] == .string("PROT_READ | PROT_EXEC"))
    #expect(vmaJSON["flags"] == .string("MAP_PRIVATE | MAP_ANON | MAP_GROWSDOWN | 0x1000"))
    #expect(vmaJSON["status"] == .string(""))
    #expect(vmaJSON["fd"] == .number("-1"))
    #expect(vmaJSON["madv"] == .string("0x10000"))

    // `hex` on a message field makes everything inside it hex; enums keep their names.
    var thread = ThreadInfoX86()
    thread.clearTidAddr_p = 0x1C86_4690
    thread.gpregs.ax = 0xFFFF_FFFF_FFFF_FFFC
    thread.gpregs.mode = .native
    thread.fpregs.cwd = 895
    let threadJSON = try CritJSON.object(thread, pretty: true)
    #expect(threadJSON["gpregs"]?["ax"] == .string("0xfffffffffffffffc"))
    #expect(threadJSON["gpregs"]?["mode"] == .string("NATIVE"))
    #expect(threadJSON["fpregs"]?["cwd"] == .number("895"))

    var task = TaskCoreEntry()
    task.taskState = 4
    task.blkSigset = 0
    #expect(try CritJSON.object(task, pretty: true)["task_state"] == .number("4"))
    task.taskState = 6
    #expect(try CritJSON.object(task, pretty: true)["task_state"] == .string("Zombie"))
    #expect(try CritJSON.object(task, pretty: false)["task_state"] == .number("6"))

    var socket = InetSkEntry()
    socket.family = 10
    socket.type = 1
    socket.proto = 6
    socket.state = 10
    socket.srcAddr = [0, 0, 0, 0x0100_0000]
    socket.dstAddr = [0x0100_007F]
    socket.flags = 2
    let socketJSON = try CritJSON.object(socket, pretty: true)
    #expect(socketJSON["family"] == .string("INET6"))
    #expect(socketJSON["proto"] == .string("TCP"))
    #expect(socketJSON["src_addr"] == .array([.string("::1")]))
    #expect(socketJSON["dst_addr"] == .array([.string("127.0.0.1")]))
    #expect(socketJSON["flags"] == .string("0x2"))
    #expect(
      try CritJSON.object(socket, pretty: false)["src_addr"] == .array([0, 0, 0, 16_777_216].map { .number("\($0)") }))

    var ghost = GhostFileEntry()
    ghost.dev = 8 << 20 | 3
    ghost.rdev = 2049
    let ghostJSON = try CritJSON.object(ghost, pretty: true)
    #expect(ghostJSON["dev"] == .string("8:3"))
    #expect(ghostJSON["rdev"] == .string("8:1"))

    var unix = UnixSkEntry()
    unix.name = Data([0] + Array("abstract".utf8))
    unix.state = 12
    // Quoted-printable names in both forms; unknown table values stay numbers.
    #expect(try CritJSON.object(unix, pretty: false)["name"] == .string("=00abstract"))
    #expect(try CritJSON.object(unix, pretty: true)["state"] == .number("12"))

    var memfd = MemfdInodeEntry()
    memfd.seals = 0x21
    #expect(try CritJSON.object(memfd, pretty: true)["seals"] == .string("F_SEAL_SEAL | 0x20"))

    var seccomp = SeccompFilter()
    seccomp.filter = Data([UInt8](repeating: 7, count: 60))
    #expect(
      try CritJSON.object(seccomp, pretty: false)["filter"]
        == .string(CritText.base64Lines([UInt8](repeating: 7, count: 60))))

    // Both forms read back to the same message.
    let messages: [any Message] = [vma, thread, task, socket, ghost, unix, memfd, seccomp]
    for message in messages {
      for pretty in [false, true] {
        let json = try CritJSON.object(message, pretty: pretty)
        let back = try CritJSON.message(json, type: type(of: message))
        #expect(try back.serializedBytes() as [UInt8] == message.serializedBytes(), "\(type(of: message)) \(pretty)")
      }
    }
  }

  /// Like crit, a ghost file with `chunks` is followed by chunk entries, each with its bytes as `extra`; without
  /// `chunks` the rest of the file is the first entry's `extra`.
  @Test func ghostFilesAreReadAsCritReadsThem() throws {
    let kind = try #require(ImageKind.named("GHOST_FILE"))
    var file = GhostFileEntry()
    file.mode = 0o100644
    file.chunks = true
    file.size = 10
    var first = GhostChunkEntry()
    first.off = 0
    first.len = 3
    var second = GhostChunkEntry()
    second.off = 8
    second.len = 2
    let chunked = try ImageFile(
      kind: kind,
      entries: [
        ImageEntry(message: file), ImageEntry(message: first, extra: Array("abc".utf8)),
        ImageEntry(message: second, extra: Array("yz".utf8)),
      ]
    ).encoded()
    let decoded = try ImageFile(decoding: chunked)
    #expect(decoded.entries.map { $0.extra?.count } == [nil, 3, 2])
    #expect(decoded.entries.last?.message is GhostChunkEntry)
    let json = try ImageJSON.decode(decoded, pretty: true)
    let document = try OrderedJSON(parsing: json)
    guard case .array(let entries)? = document["entries"] else {
      Issue.record("no entries")
      return
    }
    #expect(entries.count == 3)
    #expect(entries[0]["extra"] == nil)
    #expect(entries[1] == (try OrderedJSON(parsing: #"{"len": 3, "off": 0, "extra": "YWJj\n"}"#)))
    #expect(try ImageJSON.encode(Array(json.utf8)).encoded() == chunked)

    file.chunks = false
    let whole = try ImageFile(kind: kind, entries: [ImageEntry(message: file, extra: Array("0123456789".utf8))])
      .encoded()
    let wholeJSON = try ImageJSON.decode(ImageFile(decoding: whole), pretty: false)
    #expect(wholeJSON.contains(#""extra": "MDEyMzQ1Njc4OQ==\n""#))
    #expect(try ImageJSON.encode(Array(wholeJSON.utf8)).encoded() == whole)

    // A chunk longer than the file is an error, not a crash.
    var huge = GhostChunkEntry()
    huge.len = UInt64.max
    file.chunks = true
    let bad = try ImageFile(kind: kind, entries: [ImageEntry(message: file), ImageEntry(message: huge)]).encoded()
    #expect(throws: CRIUImageError.self) { try ImageFile(decoding: bad) }
  }

  // MARK: Hostile JSON

  @Test(arguments: [
    (#"{"pid": 18446744073709551616}"#, "entries[0].pid: 18446744073709551616 is out of range"),
    (#"{"pid": 4294967296}"#, "entries[0].pid: 4294967296 is out of range for uint32"),
    (#"{"pid": -1}"#, "entries[0].pid: -1 is out of range for uint32"),
    (#"{"pid": 1.5}"#, "entries[0].pid: 1.5 is not an integer"),
    (#"{"pid": 1e3}"#, "entries[0].pid: 1e3 is not an integer"),
    (#"{"pid": 1.0}"#, "entries[0].pid: 1.0 is not an integer"),
    (#"{"pid": 01}"#, "entries[0].pid: 01 is not an integer"),
    (#"{"pid": "0x1_0000_0000"}"#, "entries[0].pid: 4294967296 is out of range for uint32"),
    (#"{"pid": "99999999999999999999999"}"#, "is out of range"),
    (#"{"pid": "ten"}"#, #"entries[0].pid: invalid integer "ten""#),
    (#"{"pid": true}"#, "entries[0].pid: is a boolean, not uint32"),
    (#"{"pid": null}"#, "entries[0].pid: is null, not uint32"),
    (#"{"threads": [1, -2]}"#, "entries[0].threads[1]: -2 is out of range for uint32"),
    (#"{"threads": 1}"#, "entries[0].threads: is a number, not an array"),
    (#"{"pidd": 1}"#, "entries[0].pidd: is not a field of criu.PstreeEntry"),
  ])
  func encodeRefusesHostilePstreeValues(_ entry: String, _ message: String) throws {
    let text = #"{"magic": "PSTREE", "entries": ["# + entry + "]}"
    #expect {
      _ = try ImageJSON.encode(Array(text.utf8))
    } throws: { error in
      "\(error)".contains(message)
    }
  }

  @Test func encodeRefusesHostileValuesOfOtherTypes() throws {
    func refuses(_ magic: String, _ entry: String, _ message: String) {
      let text = #"{"magic": ""# + magic + #"", "entries": ["# + entry + "]}"
      #expect(throws: CRIUImageError.self, "\(entry)") { _ = try ImageJSON.encode(Array(text.utf8)) }
      do {
        _ = try ImageJSON.encode(Array(text.utf8))
      } catch {
        #expect("\(error)".contains(message), "\(error)")
      }
    }
    refuses(
      "CORE", #"{"tc": {"oom_score_adj": -2147483649}}"#, "entries[0].tc.oom_score_adj: -2147483649 is out of range")
    refuses("CORE", #"{"tc": {"oom_score_adj": 2147483648}}"#, "out of range for int32")
    refuses("CORE", #"{"tc": {"task_state": "Running"}}"#, #"invalid integer "Running""#)
    refuses("CORE", #"{"mtype": "X86_32"}"#, "entries[0]")
    refuses("CORE", #"{"mtype": 1.5}"#, "entries[0].mtype: 1.5 is not an integer")
    refuses("CORE", #"{"thread_info": {"tls": [{"usable": 1}]}}"#, "entries[0].thread_info.tls[0].usable: is a number")
    refuses("CORE", #"{"thread_info": {"gpregs": {"ax": "0x1ffffffffffffffff"}}}"#, "out of range")
    refuses("MM", #"{"vmas": [{"prot": "PROT_READ | PROT_BOGUS"}]}"#, "entries[0].vmas[0].prot: invalid integer")
    refuses("MNTS", #"{"root_dev": "0"}"#, #"entries[0].root_dev: invalid device "0""#)
    refuses("MNTS", #"{"root_dev": "4096:0"}"#, "out of range for uint32")
    refuses("FILES", #"{"isk": {"src_addr": ["300.1.1.1"]}}"#, #"entries[0].isk.src_addr[0]: invalid IP address"#)
    refuses("FILES", #"{"usk": {"name": "caf\u00e9"}}"#, "entries[0].usk.name: quoted-printable text must be ASCII")
    refuses(
      "SECCOMP", #"{"seccomp_filters": [{"filter": "YQ"}]}"#, "entries[0].seccomp_filters[0].filter: invalid base64")
    refuses("TCP_STREAM", #"{"inq_len": 0, "extra": {"inq": ""}}"#, "entries[0].extra.outq is not a base64 string")
    refuses("FIFO_DATA", #"{"bytes": 1, "extra": "Y"}"#, "entries[0].extra: invalid base64")
    refuses("PSTREE", "7", "entries[0] is not an object")
  }

  @Test func encodeRefusesDeepNestingWithoutCrashing() throws {
    let deep = #"{"magic": "PSTREE", "entries": "# + String(repeating: "[", count: 100_000)
    #expect(throws: CRIUImageError.self) { _ = try ImageJSON.encode(Array(deep.utf8)) }
    #expect(throws: CRIUImageError.self) { _ = try ImageJSON.encode([0xFF, 0xFE]) }
  }

  @Test func encodeAcceptsBothFormsOfEveryValue() throws {
    let plain =
      #"{"magic": "MM", "entries": [{"mm_start_code": 4198400, "vmas": [{"start": 4194304, "end": 4198400, "pgoff": 0, "shmid": 0, "prot": 5, "flags": 34, "status": 513, "fd": -1}]}]}"#
    let pretty =
      #"{"magic": "MM", "entries": [{"mm_start_code": "0x401000", "vmas": [{"start": "0x400000", "end": "4198400", "pgoff": "0", "shmid": 0, "prot": "PROT_READ | 0x4", "flags": "MAP_PRIVATE | MAP_ANON", "status": "VMA_AREA_REGULAR | VMA_ANON_PRIVATE", "fd": "-0x1"}]}]}"#
    let a = try ImageJSON.encode(Array(plain.utf8)).encoded()
    let b = try ImageJSON.encode(Array(pretty.utf8)).encoded()
    #expect(a == b)
    #expect(a.count > 20)
  }

  // MARK: Schema and option table

  /// The generated messages of every image kind, and of the messages the option table names.
  static func messageTypes() throws -> [String: any Message.Type] {
    var found: [String: any Message.Type] = [:]
    var pending: [any Message.Type] = ImageKind.all.flatMap { [$0.entryType] + ($0.headType.map { [$0] } ?? []) }
    pending += [
      IrmapCacheEntry.self, InotifyWdEntry.self, FanotifyFileEntry.self, FanotifyMarkEntry.self, SignalfdEntry.self,
      TunLinkEntry.self, GhostChunkEntry.self,
    ]
    while let type = pending.popLast() {
      let schema = try CritSchema.of(type)
      guard found[schema.messageName] == nil else { continue }
      found[schema.messageName] = type
      for field in schema.fields {
        if case .message(let nested) = field.type { pending.append(nested) }
      }
    }
    return found
  }

  /// Fields by message, as `Sources/CRIU/Protos/*.proto` declare them: name → number → field name.
  static func protoFields() throws -> [String: [Int: String]] {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    let directory = root.appendingPathComponent("Sources/CRIU/Protos")
    var result: [String: [Int: String]] = [:]
    for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".proto") {
      let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
      var stack: [(isMessage: Bool, name: String)] = []
      for rawLine in text.split(separator: "\n") {
        let line = rawLine.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false)[0]
          .trimmingCharacters(in: .whitespaces)
        let words = line.split(whereSeparator: { " \t=;[".contains($0) }).map(String.init)
        if words.count >= 2, words[0] == "message" || words[0] == "enum", line.hasSuffix("{") {
          stack.append((words[0] == "message", words[1]))
        } else if line.hasPrefix("}") {
          _ = stack.popLast()
        } else if words.count >= 4, ["optional", "required", "repeated"].contains(words[0]),
          let number = Int(words[3]), stack.last?.isMessage == true
        {
          let name = "criu." + stack.map(\.name).joined(separator: ".")
          result[name, default: [:]][number] = words[2]
        }
      }
    }
    return result
  }

  /// Run-time discovery finds exactly the fields the `.proto` files declare, for every message of every image.
  @Test func schemaMatchesTheProtoFiles() throws {
    let declared = try Self.protoFields()
    let types = try Self.messageTypes()
    #expect(types.count > 100)
    for (name, type) in types {
      let fields = Dictionary(uniqueKeysWithValues: try CritSchema.of(type).fields.map { ($0.number, $0.name) })
      #expect(fields == declared[name], "\(name)")
    }
    let largest = declared.values.flatMap(\.keys).max() ?? 0
    #expect(largest > 30 && largest < CritSchema.maxFieldNumber)
  }

  /// Every option names a field of a suitable type.
  @Test func optionTableNamesRealFields() throws {
    let types = try Self.messageTypes()
    var count = 0
    for (message, fields) in CritOption.table {
      let type = try #require(types["criu." + message], "\(message)")
      let schema = try CritSchema.of(type)
      for (name, option) in fields {
        let field = try #require(schema.field(named: name), "\(message).\(name)")
        count += 1
        switch field.type {
        case .signed, .unsigned:
          #expect(option.ipadd == field.repeated, "\(message).\(name)")
          if let flags = option.flags { #expect(CritOption.flagTables[flags] != nil) }
          if let dict = option.dict { #expect(CritOption.dictTables[dict]?[name] != nil, "\(message).\(name)") }
        case .message: #expect(option == CritOption(hex: true), "\(message).\(name)")
        case .bytes: #expect(option == CritOption(conv: "unix_name"), "\(message).\(name)")
        default: Issue.record("\(message).\(name) has an option but is \(field.type)")
        }
      }
    }
    #expect(count == 103)
  }
}
