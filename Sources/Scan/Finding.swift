/// How much a finding matters to an analyst.
public enum Severity: String, Sendable, Comparable {
  /// A sign of an intrusion: `scan` exits 2.
  case suspicious
  /// Context for the analyst (sockets, connections, queued bytes).
  case info

  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .suspicious && rhs == .info }
}

/// What a built-in indicator found, in the order findings of one process are listed.
public enum FindingKind: String, Sendable, CaseIterable {
  case rwxMemory = "rwx-memory"
  case executableAnonymousMemory = "executable-anonymous-memory"
  case executableMemfd = "executable-memfd"
  case deletedExecutable = "deleted-executable"
  case deletedMappedFile = "deleted-mapped-file"
  case loaderEnvironment = "loader-environment"
  case socketStdio = "socket-stdio"
  case extraCapabilities = "extra-capabilities"
  case parentOutsideTree = "parent-outside-tree"
  case listeningSocket = "listening-socket"
  case connection = "connection"
  case tcpQueue = "tcp-queue"

  public var severity: Severity {
    switch self {
    case .listeningSocket, .connection, .tcpQueue: return .info
    default: return .suspicious
    }
  }
}

/// One piece of evidence: a fact as text, or bytes (at an address, when they come from memory).
public struct Evidence: Equatable, Sendable {
  public var label: String
  public var text: String?
  public var bytes: [UInt8]?
  public var address: UInt64?

  public init(_ label: String, text: String? = nil, bytes: [UInt8]? = nil, address: UInt64? = nil) {
    self.label = label
    self.text = text
    self.bytes = bytes
    self.address = address
  }
}

/// What one built-in indicator found in one process.
public struct Finding: Equatable, Sendable {
  public var kind: FindingKind
  public var severity: Severity { kind.severity }
  public var pid: UInt32
  public var process: String
  /// The images it comes from (`mm-1827.img`).
  public var images: [String]
  /// One line saying what was found.
  public var detail: String
  public var evidence: [Evidence]

  public init(
    kind: FindingKind, pid: UInt32, process: String, images: [String], detail: String, evidence: [Evidence] = []
  ) {
    self.kind = kind
    self.pid = pid
    self.process = process
    self.images = images
    self.detail = detail
    self.evidence = evidence
  }
}
