using System.Buffers.Binary;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>
/// The Windows and macOS structures read in Linux's units, from buffers laid out as their headers document them
/// (mstcpip.h <c>TCP_INFO_v0</c>, netinet/tcp.h <c>struct tcp_connection_info</c>): the offsets in one place, checked.
/// Neither platform runs here.
/// </summary>
public sealed class TcpInfoLayoutTests
{
    [Theory]
    [InlineData(nameof(TcpInfoField.SendMaximumSegmentSize), 1460)]
    [InlineData(nameof(TcpInfoField.RoundTripTimeMicroseconds), 2500)]
    [InlineData(nameof(TcpInfoField.MinRoundTripTimeMicroseconds), 2000)]
    [InlineData(nameof(TcpInfoField.CongestionWindow), 10)] // 14600 bytes
    [InlineData(nameof(TcpInfoField.BytesSent), 123_456_789_012)]
    [InlineData(nameof(TcpInfoField.BytesReceived), 42)]
    [InlineData(nameof(TcpInfoField.TotalRetransmits), 2)] // 1461 bytes, in 1460-byte segments
    [InlineData(nameof(TcpInfoField.DataSegmentsOut), 0)] // not reported
    public void Windows_TcpInfoV0(string field, long expected)
    {
        var raw = new byte[WindowsTcpInfoLayout.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(0), 4); // State: ESTABLISHED
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4), 1460); // Mss
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(8), 5000); // ConnectionTimeMs
        raw[16] = 1; // TimestampsEnabled
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(20), 2500); // RttUs
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(24), 2000); // MinRttUs
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(28), 100); // BytesInFlight
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(32), 14600); // Cwnd
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(48), 123_456_789_012); // BytesOut
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(56), 42); // BytesIn
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(68), 1461); // BytesRetrans
        raw[84] = 1; // SynRetrans

        Assert.Equal(expected, TcpInfoReader.Read(raw, Enum.Parse<TcpInfoField>(field), TcpPlatformKind.Windows));
    }

    [Theory]
    [InlineData(nameof(TcpInfoField.SendMaximumSegmentSize), 1448)]
    [InlineData(nameof(TcpInfoField.RoundTripTimeMicroseconds), 12_000)] // 12 ms
    [InlineData(nameof(TcpInfoField.RoundTripTimeVarianceMicroseconds), 3_000)]
    [InlineData(nameof(TcpInfoField.CongestionWindow), 20)] // 28960 bytes
    [InlineData(nameof(TcpInfoField.SlowStartThreshold), 10)] // 14480 bytes
    [InlineData(nameof(TcpInfoField.SegmentsOut), 100)]
    [InlineData(nameof(TcpInfoField.SegmentsIn), 50)]
    [InlineData(nameof(TcpInfoField.BytesSent), 9999)]
    [InlineData(nameof(TcpInfoField.BytesReceived), 777)]
    [InlineData(nameof(TcpInfoField.TotalRetransmits), 4)]
    [InlineData(nameof(TcpInfoField.AckTimeoutMicroseconds), 0)] // not reported
    public void MacOS_TcpConnectionInfo(string field, long expected)
    {
        var raw = new byte[DarwinTcpInfoLayout.Size];
        raw[0] = 4; // tcpi_state
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), 200); // tcpi_rto
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(16), 1448); // tcpi_maxseg
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(20), 14480); // tcpi_snd_ssthresh
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(24), 28960); // tcpi_snd_cwnd
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(40), 11); // tcpi_rttcur
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(44), 12); // tcpi_srtt
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(48), 3); // tcpi_rttvar
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(56), 100); // tcpi_txpackets
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(64), 9999); // tcpi_txbytes
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(72), 5792); // tcpi_txretransmitbytes
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(80), 50); // tcpi_rxpackets
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(88), 777); // tcpi_rxbytes
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(104), 4); // tcpi_txretransmitpackets

        Assert.Equal(expected, TcpInfoReader.Read(raw, Enum.Parse<TcpInfoField>(field), TcpPlatformKind.MacOS));
    }

    [Fact]
    public void AShortBuffer_ReadsAsZero()
    {
        Assert.Equal(0, TcpInfoReader.Read(new byte[40], TcpInfoField.BytesSent, TcpPlatformKind.Windows));
        Assert.Equal(0, TcpInfoReader.Read(new byte[40], TcpInfoField.BytesSent, TcpPlatformKind.MacOS));
    }
}
