import Archive
import CRIU
import CheckpointKit
import OCI
import SystemSupport

/// Container checkpoints and bare CRIU image directories, in every form a checkpoint source reads: archives of
/// any compression, directories, checkpoint images (an OCI archive file, `oci-archive:`, `oci:`, `docker://`).
///
/// One pass: the archive is read to its end through a ``CheckpointSource/Loader`` that keeps the metadata and
/// the protobuf images in memory and takes each pages file only to count its bytes; an image's layer is hashed
/// as it is read. Then, from what was read (all of it, or what came before a failure): the metadata's JSON,
/// every image decoded, every pagemap's pages against its pages file, every process's images.
public struct ContainerCheckpointVerifier: CheckpointVerifier {
  public init() {}

  public var kind: String { "container" }

  /// Anything: an input no other kind recognises is checked (or reported unreadable) as a container checkpoint.
  public func recognises(_ path: String) -> Bool { true }

  public func verify(_ path: String, options: VerifyOptions) -> VerifyReport {
    var report = VerifyReport(checkpoint: path, kind: kind)
    for failure in ImageDocumentCheck.failures(of: path) { report.add(nil, describe(failure)) }
    let problemsBefore = report.problems.count
    guard let (source, unfinished) = read(path, options: options, into: &report) else { return report }
    // A failure while reading (the only problems so far besides the image's documents) leaves members unread.
    var check = SourceCheck(
      source: source, pageSize: options.pageSize, report: report,
      complete: report.problems.count == problemsBefore, unfinished: unfinished)
    check.run()
    return check.report
  }

  /// Which members are kept: metadata and protobuf images in memory, pages counted; the rest is read through.
  static let selection = CheckpointSource.Selection(
    memory: { name in CheckpointLayout.jsonMetadata.contains(name) || isProtobufImage(name) },
    randomAccess: CheckpointLayout.isPages)

  /// True for the members that must decode as CRIU images: every `.img` that is not raw (pages, tmpfs
  /// tarballs, ip-tool dumps), and `stats-dump`.
  static func isProtobufImage(_ name: String) -> Bool {
    let base = Path.base(of: name)
    return (base.hasSuffix(CRIUImage.suffix) && ImageDecoding.rawKind(of: base) == nil)
      || base == CheckpointMember.statsDump.name
  }

  /// Reads the checkpoint to its end; a failure is a problem, and the members read before it are still given,
  /// with the pages member that was being counted when it came.
  private func read(_ path: String, options: VerifyOptions, into report: inout VerifyReport) -> (
    CheckpointSource, unfinished: String?
  )? {
    let loader: CheckpointSource.Loader
    do {
      loader = try CheckpointSource.Loader(
        path: path, selection: Self.selection, registry: options.registry, hashingImage: true)
    } catch {
      report.add(nil, describe(error))
      return nil
    }
    var current: String?
    do {
      while let (name, _) = try loader.nextStreamedMember() {
        current = name
        try loader.take(with: PageCounter(source: path, member: name))
        current = nil
      }
      return (try loader.finish(), nil)
    } catch {
      report.add(current, describe(error))
      return (try? loader.sourceSoFar).map { ($0, current) }
    }
  }
}
