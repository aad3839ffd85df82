import SystemSupport

/// Errors of `scan`.
public enum ScanError: Error, Equatable, CustomStringConvertible {
  /// Rules that cannot be read or compiled.
  case rules(String)
  /// libyara failed a scan with this error code.
  case yara(Int32)

  public var description: String {
    switch self {
    case .rules(let message): return message
    case .yara(let code): return "libyara failed the scan (error \(code))"
    }
  }
}
