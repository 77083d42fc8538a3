namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// Windows' <c>TCP_INFO_v0</c> (mstcpip.h, read with SIO_TCP_INFO), in the terms of <see cref="TcpInfoField"/>: Linux's
/// units, and 0 for what it does not report. From the documented layout; not run on Windows here.
/// </summary>
internal static class WindowsTcpInfoLayout
{
    public const int Size = 88;

    private const int Mss = 4;          // ULONG, after TCPSTATE State
    private const int RttUs = 20;       // ULONG, after ULONG64 ConnectionTimeMs and BOOLEAN TimestampsEnabled
    private const int MinRttUs = 24;
    private const int Cwnd = 32;        // bytes
    private const int BytesOut = 48;    // ULONG64
    private const int BytesIn = 56;     // ULONG64
    private const int BytesRetrans = 68;

    public static long Read(ReadOnlySpan<byte> raw, TcpInfoField field)
    {
        if (raw.Length < Size)
        {
            return 0;
        }

        var mss = TcpInfoReader.ReadUInt32(raw, Mss);
        return field switch
        {
            TcpInfoField.SendMaximumSegmentSize => mss,
            TcpInfoField.RoundTripTimeMicroseconds => TcpInfoReader.ReadUInt32(raw, RttUs),
            TcpInfoField.MinRoundTripTimeMicroseconds => TcpInfoReader.ReadUInt32(raw, MinRttUs),
            TcpInfoField.CongestionWindow => mss == 0 ? 0 : TcpInfoReader.ReadUInt32(raw, Cwnd) / mss,
            TcpInfoField.BytesSent => TcpInfoReader.ReadUInt64(raw, BytesOut),
            TcpInfoField.BytesReceived => TcpInfoReader.ReadUInt64(raw, BytesIn),
            // Retransmitted bytes, in segments of the current MSS.
            TcpInfoField.TotalRetransmits => mss == 0 ? 0 : (TcpInfoReader.ReadUInt32(raw, BytesRetrans) + mss - 1) / mss,
            _ => 0,
        };
    }
}
