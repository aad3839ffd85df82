import Glibc
import SystemSupport

/// An RFC 3339 time as Go's `encoding/json` writes `time.Time` (`2026-11-29T12:19:07.962708643Z`,
/// `2024-01-28T00:10:45.673538606+05:30`), kept in the offset it was written with so it prints as Go prints it.
public struct Timestamp: Equatable, Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The text it was parsed from.
  public let text: String
  /// Calendar fields as written (in the written offset).
  public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
  /// Fraction of the second, in nanoseconds (digits past the ninth are dropped, as Go does).
  public let nanoseconds: Int
  /// Offset east of UTC in seconds; `nil` for `Z` (Go's location `UTC`).
  public let offsetSeconds: Int?

  /// Parses `text`; `nil` unless it is a complete, valid RFC 3339 date-time (Go's `time.RFC3339Nano` rules).
  public init?(_ text: String) {
    let bytes = Array(text.utf8)
    var position = 0
    func number(_ digits: Int) -> Int? {
      guard position + digits <= bytes.count else { return nil }
      var value = 0
      for byte in bytes[position..<position + digits] {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
      }
      position += digits
      return value
    }
    func expect(_ character: UInt8) -> Bool {
      guard position < bytes.count, bytes[position] == character else { return false }
      position += 1
      return true
    }
    guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
      let day = number(2), expect(UInt8(ascii: "T")), let hour = number(2), expect(UInt8(ascii: ":")),
      let minute = number(2), expect(UInt8(ascii: ":")), let second = number(2)
    else { return nil }
    guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day), hour < 24,
      minute < 60, second < 60
    else { return nil }
    var nanoseconds = 0
    if expect(UInt8(ascii: ".")) {
      var digits = 0
      while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
        if digits < 9 { nanoseconds = nanoseconds * 10 + Int(bytes[position] - 0x30) }
        digits += 1
        position += 1
      }
      guard digits > 0 else { return nil }
      for _ in digits..<max(digits, 9) { nanoseconds *= 10 }
    }
    var offset: Int?
    if expect(UInt8(ascii: "Z")) {
      offset = nil
    } else {
      guard position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
      else { return nil }
      let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
      position += 1
      guard let hours = number(2), expect(UInt8(ascii: ":")), let minutes = number(2), hours < 24, minutes < 60
      else { return nil }
      offset = sign * (hours * 3600 + minutes * 60)
    }
    guard position == bytes.count else { return nil }
    self.text = text
    (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    self.nanoseconds = nanoseconds
    self.offsetSeconds = offset
  }

  /// The UTC time `seconds` after 1970-01-01T00:00:00Z (a file's modification time); `nil` outside years 1–9999.
  public init?(unixSeconds seconds: Int64) {
    guard seconds > -62_135_596_800, seconds < 253_402_300_800 else { return nil }
    var time = time_t(seconds)
    var fields = tm()
    guard gmtime_r(&time, &fields) != nil else { return nil }
    func pad(_ value: Int32, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    self.init(
      "\(pad(fields.tm_year + 1900, 4))-\(pad(fields.tm_mon + 1, 2))-\(pad(fields.tm_mday, 2))T"
        + "\(pad(fields.tm_hour, 2)):\(pad(fields.tm_min, 2)):\(pad(fields.tm_sec, 2))Z")
  }

  /// Seconds since 1970-01-01T00:00:00Z (negative before).
  public var unixSeconds: Int64 {
    let days = Self.daysFromCivil(year: year, month: month, day: day)
    return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds ?? 0)
  }

  /// Go's zero `time.Time` (`0001-01-01T00:00:00Z`), which Go writes for a time that was never set.
  public var isZero: Bool { unixSeconds == Self.goZeroUnixSeconds && nanoseconds == 0 }

  /// Go's `Format(time.RFC3339)`: whole seconds, `Z` for a zero offset (`2026-11-29T12:19:07Z`).
  public var rfc3339: String {
    let date = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    guard let offset = offsetSeconds, offset != 0 else { return date + "Z" }
    let minutes = abs(offset) / 60
    return date + (offset < 0 ? "-" : "+") + pad(minutes / 60, 2) + ":" + pad(minutes % 60, 2)
  }

  /// Go's `Format(time.RFC822)` (`02 Jan 06 15:04 MST`): `UTC` for `Z`, else the offset as `+0530`, which is
  /// what Go prints for an offset that is not the local zone's.
  public var rfc822: String {
    let zone: String
    if let offset = offsetSeconds {
      let minutes = abs(offset) / 60
      zone = (offset < 0 ? "-" : "+") + pad(minutes / 60, 2) + pad(minutes % 60, 2)
    } else {
      zone = "UTC"
    }
    return
      "\(pad(day, 2)) \(Self.monthNames[month - 1]) \(pad(year % 100, 2)) \(pad(hour, 2)):\(pad(minute, 2)) \(zone)"
  }

  /// The text as parsed.
  public var description: String { text }

  /// Earlier instants first; equal instants by text, so the order is total.
  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    (lhs.unixSeconds, lhs.nanoseconds, lhs.text) < (rhs.unixSeconds, rhs.nanoseconds, rhs.text)
  }

  static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
  /// `0001-01-01T00:00:00Z` in Unix seconds.
  static let goZeroUnixSeconds: Int64 = -62_135_596_800

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}

/// `value` in decimal, zero-padded on the left to `width` digits.
private func pad(_ value: Int, _ width: Int) -> String { String(value).leftPadded(to: width) }
