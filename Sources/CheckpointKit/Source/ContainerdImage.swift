import Archive
import OCI
import SystemSupport

/// A containerd checkpoint image (`ctr containers checkpoint`, `ctr tasks checkpoint`, the CRI's checkpoints):
/// an image whose tag names an index listing blobs, not manifests. Its blobs play the parts of a container
/// checkpoint's members: the CRIU images tar is the `checkpoint/` directory (its members read where they are),
/// the runtime spec inside a protobuf `Any` is `spec.dump`, the gzip rw layer is `rootfs-diff.tar`. It has no
/// `config.dump`, `dump.log` or `stats-dump`; what `config.dump` would say comes from the index and the spec
/// (``config``). The image is read from whatever ``ImageBlobs`` opened: an OCI archive file (a `.oci.tar`, or a
/// member of a pod checkpoint once it is a file), `oci-archive:`, `oci:` or `docker://`.
public struct ContainerdImage {
  /// containerd's media types (`application/vnd.containerd.container.` …).
  enum MediaType {
    static let prefix = "application/vnd.containerd.container."
    /// The CRIU image directory as an uncompressed tar of flat names.
    static let criu = prefix + "criu.checkpoint.criu.tar"
    /// `Any` of the OCI runtime spec (JSON).
    static let config = prefix + "checkpoint.config.v1+proto"
  }

  /// Index annotations naming the base image: `ctr containers checkpoint`'s, `ctr tasks checkpoint`'s.
  static let imageAnnotations = [OCIAnnotation.refName, "image.name"]
  /// The index annotation naming the runtime (`io.containerd.runc.v2`).
  static let runtimeAnnotation = "io.containerd.checkpoint.runtime"

  /// The CRIU images tar, opened as an archive (read in place from a file, streamed from a registry).
  let images: ImageLayer
  /// The members the other blobs give: `spec.dump` in memory, `rootfs-diff.tar` where it is (or read whole from a
  /// registry when `selection` wants it, else only its size).
  let members: [String: CheckpointSource.Storage]
  /// What `config.dump` would say: ID (the last part of the spec's `linux.cgroupsPath`, which containerd ends
  /// with it), name (the ID), base image name, runtime.
  let config: ContainerConfig

  /// True when the index lists containerd checkpoint blobs.
  static func isCheckpoint(_ index: ImageIndex) -> Bool {
    index.manifests.contains { $0.mediaType.hasPrefix(MediaType.prefix) }
  }

  /// Reads the containerd checkpoint `image` holds; `nil` when its tag names no index of containerd blobs. With
  /// `hashing`, the CRIU images tar is read once in order and checked against its digest when finished (`verify`).
  init?(_ image: ImageBlobs, selection: CheckpointSource.Selection, hashing: Bool = false) throws {
    guard let index = try image.topIndex, Self.isCheckpoint(index) else { return nil }
    let source = image.display
    let blobs = index.manifests
    guard let criu = blobs.first(where: { $0.mediaType == MediaType.criu }),
      let specBlob = blobs.first(where: { $0.mediaType == MediaType.config })
    else { throw CheckpointError.noCRIUData(source) }
    let spec = try Self.anyValue(image.blob(specBlob), source: source, mediaType: MediaType.config)
    var members: [String: CheckpointSource.Storage] = [SpecDump.fileName: .memory(spec)]
    let diffName = CheckpointMember.rootFSDiff.name
    // The rw layer is the only layer the index lists (the base image is listed as its manifest).
    if let diff = blobs.first(where: { OCI.MediaType.isLayer($0.mediaType) }) {
      members[diffName] =
        image.isRemote && !selection.memory(diffName) && !selection.randomAccess(diffName)
        ? .skipped(size: diff.size)
        : .received(try image.randomAccess(diff, limit: CheckpointLayout.memberLimit), size: diff.size)
    }
    self.members = members
    let baseImage =
      Self.imageAnnotations.lazy.compactMap { index.annotations[$0] }.first
      ?? blobs.lazy.compactMap { $0.annotations[OCIAnnotation.refName] }.first
    let id = Self.containerID(spec: spec)
    config = ContainerConfig(
      id: id, name: id, rootfsImageName: baseImage, runtime: index.annotations[Self.runtimeAnnotation])
    // Opened last: a registry streams it as the source is read.
    images = try image.archive(criu, hashing: hashing)
  }

  /// The container ID: the last part of the spec's `linux.cgroupsPath` (`/default/ID`, or the CRI's
  /// `SLICE:cri-containerd:ID`); `nil` when the spec has none.
  static func containerID(spec: [UInt8]) -> String? {
    struct Spec: Decodable {
      var linux: Linux?
      struct Linux: Decodable { var cgroupsPath: String? }
    }
    guard let path = (try? decodeMember(Spec.self, spec, source: "", member: SpecDump.fileName))?.linux?.cgroupsPath,
      let last = path.split(whereSeparator: { $0 == "/" || $0 == ":" }).last
    else { return nil }
    return String(last)
  }

  /// The `value` of a protobuf `google.protobuf.Any` (field 1 `type_url`, field 2 `value`; others skipped,
  /// every length bounded by what is left); empty when it has none.
  public static func anyValue(_ bytes: [UInt8], source: String, mediaType: String) throws -> [UInt8] {
    func fail(_ reason: String) -> CheckpointError {
      .invalidBlob(source: source, mediaType: mediaType, reason: reason)
    }
    var position = 0
    func varint() throws -> UInt64 {
      var value: UInt64 = 0
      for shift in stride(from: 0, to: 64, by: 7) {
        guard position < bytes.count else { throw fail("a truncated varint at byte \(position)") }
        let byte = bytes[position]
        position += 1
        value |= UInt64(byte & 0x7f) << UInt64(shift)
        if byte < 0x80 { return value }
      }
      throw fail("a varint longer than 10 bytes at byte \(position)")
    }
    var value: [UInt8] = []
    while position < bytes.count {
      let key = try varint()
      let length: UInt64
      switch key & 7 {
      case 0:
        length = 0
        _ = try varint()
      case 1: length = 8
      case 2: length = try varint()
      case 5: length = 4
      default: throw fail("wire type \(key & 7) at byte \(position)")
      }
      guard length <= UInt64(bytes.count - position) else {
        throw fail("a field of \(length) bytes with \(bytes.count - position) left")
      }
      let end = position + Int(length)
      if key == 0x12 { value = Array(bytes[position..<end]) }
      position = end
    }
    return value
  }
}
