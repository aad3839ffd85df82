import Archive
import CRIU
import Glibc
import SystemSupport

/// `encode`: decode's JSON back into image bytes.
public enum ImageEncoding {
  /// The image that `json` (decode's output, plain or `--pretty`) describes; `name` says where the JSON came
  /// from in errors.
  public static func encode(json: [UInt8], name: String) throws -> [UInt8] {
    do {
      return try ImageJSON.encode(json).encoded()
    } catch let error as CRIUImageError {
      throw ImageDecodingError(name: name, error: error)
    }
  }
}
