import CRIU
import CheckpointKit
import SystemSupport

/// The checks of a checkpoint's members once they are read: metadata, images, pages, processes. Each member is
/// read once (images are decoded here and nowhere else); every problem is recorded, none stops the others.
struct SourceCheck {
  let source: CheckpointSource
  let pageSize: Int
  /// False when reading stopped at a failure: what was not reached is not reported missing.
  let complete: Bool
  /// The pages member being counted when reading failed: its size is its header's, not what was read.
  let unfinished: String?
  var report: VerifyReport
  /// Decoded images of the image directory, by name relative to it.
  private var images: [String: ImageFile] = [:]

  init(source: CheckpointSource, pageSize: Int, report: VerifyReport, complete: Bool, unfinished: String?) {
    self.source = source
    self.pageSize = pageSize
    self.report = report
    self.complete = complete
    self.unfinished = unfinished
  }

  mutating func run() {
    report.members += source.memberNames.count
    checkMetadata()
    decodeImages()
    if source.memberNames.contains(where: { $0.hasPrefix(source.imagePrefix) && $0 != source.imagePrefix }) {
      checkPages()
      if complete { checkProcesses() }
    }
  }

  /// Each JSON metadata member present: a regular file holding one JSON value. A container checkpoint has
  /// `config.dump` and `spec.dump`.
  private mutating func checkMetadata() {
    if complete && source.imagePrefix == CheckpointLayout.imageDirectory {
      // A containerd checkpoint image has no config.dump: its index and spec say what it would.
      let required = source.derivedConfig == nil ? [CheckpointMember.config, .spec] : [.spec]
      for member in required where !source.contains(member) {
        report.add(member.name, "missing")
      }
    }
    for name in CheckpointLayout.jsonMetadata.sorted() where source.contains(name) {
      do {
        if let reason = JSONSyntax.firstError(in: try source.bytes(of: name)) {
          report.add(name, "not valid JSON: \(reason)")
        }
      } catch CheckpointError.notRegularFile {
        report.add(name, "not a regular file")
      } catch {
        report.add(name, describe(error))
      }
    }
  }

  /// Every protobuf image decoded whole (framing, entries, extra payloads).
  private mutating func decodeImages() {
    for name in source.memberNames where ContainerCheckpointVerifier.isProtobufImage(name) {
      do {
        let image = try ImageFile(decoding: source.bytes(of: name))
        report.images += 1
        if name.hasPrefix(source.imagePrefix) { images[String(name.dropFirst(source.imagePrefix.count))] = image }
      } catch let error as CRIUImageError {
        report.add(name, "cannot decode: \(error)")
      } catch {
        report.add(name, describe(error))
      }
    }
  }

  /// Every pages file holds exactly the pages its pagemaps place in it (entries with PE_PRESENT, not PE_PARENT):
  /// no page short, none extra.
  private mutating func checkPages() {
    var expected: [UInt32: (pages: UInt64, pagemaps: [String])] = [:]
    for (name, image) in images.sorted(by: { $0.key < $1.key }) {
      guard let kind = CRIUImage(name: name)?.kind, kind.isPagemap else { continue }
      do {
        let map = try PageMap(image: image, pageSize: pageSize)
        let count = map.regions.reduce(UInt64(0)) { total, region in
          region.fileOffset == nil ? total : total &+ region.pageCount  // bounded: PageMap keeps offsets < 2^63
        }
        // Several pagemaps naming one pages file is a problem of its own (below); each is then held to the file.
        expected[map.pagesID, default: (0, [])].pages = max(expected[map.pagesID]?.pages ?? 0, count)
        expected[map.pagesID, default: (0, [])].pagemaps.append(name)
      } catch {
        report.add(source.imagePrefix + name, describe(error))
      }
    }
    var seen: Set<UInt32> = []
    for name in source.memberNames where name.hasPrefix(source.imagePrefix) {
      guard name != unfinished, case .pages(let id)? = CRIUImage(name: String(name.dropFirst(source.imagePrefix.count)))
      else { continue }
      seen.insert(id)
      let size: Int64
      do { size = try source.size(of: name) } catch {
        report.add(name, describe(error))
        continue
      }
      let held = UInt64(size / Int64(pageSize))
      report.pages += Int64(held)
      if size % Int64(pageSize) != 0 {
        report.add(name, "\(size) bytes is not a whole number of \(pageSize)-byte pages")
      }
      guard let (wanted, pagemaps) = expected[id] else {
        report.add(name, "no pagemap names it (\(held) pages)")
        continue
      }
      if pagemaps.count > 1 {
        report.add(
          name,
          "named by \(pagemaps.count) pagemaps (\(pagemaps.joined(separator: ", "))): each needs a pages file of its own"
        )
      }
      let placed = pagemaps.count == 1 ? "\(pagemaps[0]) places \(wanted)" : "one of them places \(wanted)"
      if held < wanted {
        report.add(name, "holds \(held) pages, \(placed): \(wanted - held) short")
      } else if held > wanted {
        report.add(name, "holds \(held) pages, \(placed): \(held - wanted) extra")
      }
    }
    for (id, (wanted, pagemaps)) in expected.sorted(by: { $0.key < $1.key })
    where complete && !seen.contains(id) && wanted > 0 {
      report.add(
        source.imagePrefix + CRIUImage.pages(id: id).name,
        "missing (\(pagemaps.joined(separator: ", ")) place \(wanted) pages there)")
    }
  }

  /// `pstree.img` and, for each process, `core-<tid>.img` of each thread, `mm-<pid>.img` and
  /// `pagemap-<pid>.img` (a zombie has its core alone).
  private mutating func checkProcesses() {
    let prefix = source.imagePrefix
    guard let pstree = images[CRIUImage.pstree.name] else {
      if !source.contains(.pstree) { report.add(prefix + CRIUImage.pstree.name, "missing") }
      return
    }
    for entry in pstree.messages(PstreeEntry.self) {
      guard source.contains(.core(tid: entry.pid)) else {
        report.add(prefix + CRIUImage.core(tid: entry.pid).name, "missing (process \(entry.pid) in pstree.img)")
        continue
      }
      let core = images[CRIUImage.core(tid: entry.pid).name]?.messages(CoreEntry.self).first
      // An undecodable core is already a problem; a zombie's threads are garbage and it has no memory.
      guard let core, TaskState(core.tc.taskState).hasResources else { continue }
      var needed = entry.threads.filter { $0 != entry.pid }.map { CRIUImage.core(tid: $0) }
      needed += [.mm(pid: entry.pid), .pagemap(pid: entry.pid)]
      for image in needed where !source.contains(image) {
        report.add(prefix + image.name, "missing (process \(entry.pid) in pstree.img)")
      }
    }
  }
}
