import CheckpointKit
import Testing

@Suite struct TimestampTests {
  @Test func printsAsGo() throws {
    let utc = try #require(Timestamp("2026-11-29T12:19:07.962708643Z"))
    #expect(utc.rfc3339 == "2026-11-29T12:19:07Z")
    #expect(utc.rfc822 == "29 Nov 26 12:19 UTC")
    #expect(utc.nanoseconds == 962_708_643)
    let india = try #require(Timestamp("2024-01-28T00:10:45.673538606+05:30"))
    #expect(india.rfc3339 == "2024-01-28T00:10:45+05:30")
    #expect(india.rfc822 == "28 Jan 24 00:10 +0530")
    let west = try #require(Timestamp("2024-03-01T23:59:59-07:00"))
    #expect(west.rfc822 == "01 Mar 24 23:59 -0700")
    // A zero offset that is not `Z` prints as Go's FixedZone does.
    let zero = try #require(Timestamp("2024-03-01T10:00:00+00:00"))
    #expect(zero.rfc3339 == "2024-03-01T10:00:00Z")
    #expect(zero.rfc822 == "01 Mar 24 10:00 +0000")
    #expect(try #require(Timestamp("0001-01-01T00:00:00Z")).rfc822 == "01 Jan 01 00:00 UTC")
  }

  @Test func instantsCompareAcrossOffsets() throws {
    let a = try #require(Timestamp("2024-01-28T00:10:45+05:30"))  // 2024-01-27T18:40:45Z
    let b = try #require(Timestamp("2024-01-27T19:00:00Z"))
    #expect(a < b)
    #expect(try #require(Timestamp("1970-01-01T00:00:00Z")).unixSeconds == 0)
    #expect(try #require(Timestamp("2026-11-29T12:21:24Z")).unixSeconds == 1_795_954_884)
    #expect(try #require(Timestamp("1969-12-31T23:00:00-01:00")).unixSeconds == 0)
    #expect(try #require(Timestamp("0001-01-01T00:00:00Z")).isZero)
    #expect(try #require(Timestamp("0001-01-01T00:00:00.5Z")).isZero == false)
    #expect(try #require(Timestamp("2024-01-01T00:00:00.1Z")).nanoseconds == 100_000_000)
    #expect(try #require(Timestamp("2024-01-01T00:00:00.1234567891234Z")).nanoseconds == 123_456_789)
  }

  @Test(arguments: [
    "", "2024", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
    "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00+0530", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00Zx", "+024-01-01T00:00:00Z",
  ])
  func rejectsWhatGoRejects(_ text: String) {
    #expect(Timestamp(text) == nil)
  }

  @Test func leapDay() {
    #expect(Timestamp("2024-02-29T00:00:00Z") != nil)
    #expect(Timestamp("2000-02-29T00:00:00Z") != nil)
    #expect(Timestamp("1900-02-29T00:00:00Z") == nil)
  }
}
