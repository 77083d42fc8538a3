namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// macOS's <c>struct tcp_connection_info</c> (netinet/tcp.h, read with TCP_CONNECTION_INFO), in the terms of
/// <see cref="TcpInfoField"/>: Linux's units, and 0 for what it does not report. From the header's layout; not run on
/// macOS here.
/// </summary>
internal static class DarwinTcpInfoLayout
{
    public const int Size = 112;

    private const int MaxSeg = 16;          // u_int32_t, after four bytes, tcpi_options, tcpi_flags and tcpi_rto
    private const int SlowStartThreshold = 20; // bytes
    private const int CongestionWindow = 24;   // bytes
    private const int SmoothedRttMs = 44;
    private const int RttVarianceMs = 48;
    private const int TxPackets = 56;       // u_int64_t, 8-aligned after the flag bits
    private const int TxBytes = 64;
    private const int RxPackets = 80;
    private const int RxBytes = 88;
    private const int TxRetransmitPackets = 104;

    public static long Read(ReadOnlySpan<byte> raw, TcpInfoField field)
    {
        if (raw.Length < Size)
        {
            return 0;
        }

        var mss = TcpInfoReader.ReadUInt32(raw, MaxSeg);
        return field switch
        {
            TcpInfoField.SendMaximumSegmentSize => mss,
            TcpInfoField.RoundTripTimeMicroseconds => 1000 * TcpInfoReader.ReadUInt32(raw, SmoothedRttMs),
            TcpInfoField.RoundTripTimeVarianceMicroseconds => 1000 * TcpInfoReader.ReadUInt32(raw, RttVarianceMs),
            TcpInfoField.CongestionWindow => mss == 0 ? 0 : TcpInfoReader.ReadUInt32(raw, CongestionWindow) / mss,
            TcpInfoField.SlowStartThreshold => mss == 0 ? 0 : TcpInfoReader.ReadUInt32(raw, SlowStartThreshold) / mss,
            TcpInfoField.SegmentsOut => TcpInfoReader.ReadUInt64(raw, TxPackets),
            TcpInfoField.SegmentsIn => TcpInfoReader.ReadUInt64(raw, RxPackets),
            TcpInfoField.BytesSent => TcpInfoReader.ReadUInt64(raw, TxBytes),
            TcpInfoField.BytesReceived => TcpInfoReader.ReadUInt64(raw, RxBytes),
            TcpInfoField.TotalRetransmits => TcpInfoReader.ReadUInt64(raw, TxRetransmitPackets),
            _ => 0,
        };
    }
}
