import Glibc

/// Environment facts.
public enum ProcessEnvironment {
  /// `$TMPDIR`, else `/tmp`.
  public static var temporaryDirectory: String {
    guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
    return String(cString: value)
  }
}
