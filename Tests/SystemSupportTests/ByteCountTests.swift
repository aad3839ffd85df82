import SystemSupport
import Testing

@Suite struct ByteCountTests {
  @Test func bytesBelowOneKiBAreExact() {
    #expect(ByteCount.format(0) == "0 B")
    #expect(ByteCount.format(1023) == "1023 B")
  }

  @Test func largerCountsHaveOneDecimalAndTheLargestUnit() {
    #expect(ByteCount.format(1024) == "1.0 KiB")
    #expect(ByteCount.format(1536) == "1.5 KiB")
    #expect(ByteCount.format(1024 * 1024 - 1) == "1024.0 KiB")
    #expect(ByteCount.format(1 << 20) == "1.0 MiB")
    #expect(ByteCount.format(1_073_827_840) == "1.0 GiB")
    #expect(ByteCount.format(5 << 40) == "5.0 TiB")
    #expect(ByteCount.format(Int64.max) == "8.0 EiB")
  }

  @Test func roundingIsCPrintfRounding() {
    // 1.25 KiB is an exact tie, which printf rounds to even; 1382 and 1383 bytes lie either side of 1.35 KiB.
    #expect(ByteCount.format(1280) == "1.2 KiB")
    #expect(ByteCount.format(1382) == "1.3 KiB")
    #expect(ByteCount.format(1383) == "1.4 KiB")
  }
}
