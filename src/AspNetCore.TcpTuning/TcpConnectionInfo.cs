using System.Net.Sockets;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning;

/// <summary>
/// A snapshot of what the kernel's TCP stack did on one connection (Linux <c>TCP_INFO</c>).
/// </summary>
public readonly record struct TcpConnectionInfo
{
    /// <summary>Segments sent, pure ACKs and retransmissions included (<c>tcpi_segs_out</c>).</summary>
    public long SegmentsOut { get; init; }

    /// <summary>Segments received (<c>tcpi_segs_in</c>).</summary>
    public long SegmentsIn { get; init; }

    /// <summary>Segments sent that carried data (<c>tcpi_data_segs_out</c>).</summary>
    public long DataSegmentsOut { get; init; }

    /// <summary>Segments received that carried data (<c>tcpi_data_segs_in</c>).</summary>
    public long DataSegmentsIn { get; init; }

    /// <summary>Bytes sent, retransmissions included (<c>tcpi_bytes_sent</c>).</summary>
    public long BytesSent { get; init; }

    /// <summary>Bytes received and acknowledged (<c>tcpi_bytes_received</c>).</summary>
    public long BytesReceived { get; init; }

    /// <summary>Bytes written to the socket but not yet sent (<c>tcpi_notsent_bytes</c>).</summary>
    public long NotSentBytes { get; init; }

    /// <summary>Segments retransmitted over the connection's life (<c>tcpi_total_retrans</c>).</summary>
    public long TotalRetransmits { get; init; }

    /// <summary>The sender's maximum segment size (<c>tcpi_snd_mss</c>).</summary>
    public int SendMaximumSegmentSize { get; init; }

    /// <summary>The smoothed round-trip time (<c>tcpi_rtt</c>).</summary>
    public TimeSpan RoundTripTime { get; init; }

    /// <summary>The smoothed round-trip time's mean deviation (<c>tcpi_rttvar</c>).</summary>
    public TimeSpan RoundTripTimeVariance { get; init; }

    /// <summary>The least round-trip time seen (<c>tcpi_min_rtt</c>).</summary>
    public TimeSpan MinRoundTripTime { get; init; }

    /// <summary>The congestion window, in segments (<c>tcpi_snd_cwnd</c>).</summary>
    public long CongestionWindow { get; init; }

    /// <summary>The slow-start threshold, in segments (<c>tcpi_snd_ssthresh</c>; very large until the first loss).</summary>
    public long SlowStartThreshold { get; init; }

    /// <summary>Retransmissions of the current unacknowledged data (<c>tcpi_retransmits</c>).</summary>
    public long Retransmits { get; init; }

    /// <summary>Segments the stack takes for lost now (<c>tcpi_lost</c>).</summary>
    public long Lost { get; init; }

    /// <summary>Bytes the peer acknowledged (<c>tcpi_bytes_acked</c>).</summary>
    public long BytesAcked { get; init; }

    /// <summary>The most recent delivery rate, in bytes per second (<c>tcpi_delivery_rate</c>).</summary>
    public long DeliveryRate { get; init; }

    /// <summary>The pacing rate, in bytes per second (<c>tcpi_pacing_rate</c>).</summary>
    public long PacingRate { get; init; }

    /// <summary>Time spent sending data (<c>tcpi_busy_time</c>).</summary>
    public TimeSpan BusyTime { get; init; }

    /// <summary>Time sending was limited by the receiver's window (<c>tcpi_rwnd_limited</c>).</summary>
    public TimeSpan ReceiveWindowLimitedTime { get; init; }

    /// <summary>Time sending was limited by the send buffer (<c>tcpi_sndbuf_limited</c>).</summary>
    public TimeSpan SendBufferLimitedTime { get; init; }

    /// <summary>Reads the snapshot of a connected TCP socket.</summary>
    /// <param name="socket">A connected TCP socket.</param>
    /// <param name="info">The snapshot, when this returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> where the platform has no TCP_INFO or the socket is closed.</returns>
    public static bool TryRead(Socket socket, out TcpConnectionInfo info)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> buffer = stackalloc byte[TcpInfoReader.Size];
        var length = TcpInfoReader.TryRead(socket, buffer);
        if (length < 0)
        {
            info = default;
            return false;
        }

        ReadOnlySpan<byte> raw = buffer[..length];
        info = new TcpConnectionInfo
        {
            SegmentsOut = TcpInfoReader.Read(raw, TcpInfoField.SegmentsOut),
            SegmentsIn = TcpInfoReader.Read(raw, TcpInfoField.SegmentsIn),
            DataSegmentsOut = TcpInfoReader.Read(raw, TcpInfoField.DataSegmentsOut),
            DataSegmentsIn = TcpInfoReader.Read(raw, TcpInfoField.DataSegmentsIn),
            BytesSent = TcpInfoReader.Read(raw, TcpInfoField.BytesSent),
            BytesReceived = TcpInfoReader.Read(raw, TcpInfoField.BytesReceived),
            NotSentBytes = TcpInfoReader.Read(raw, TcpInfoField.NotSentBytes),
            TotalRetransmits = TcpInfoReader.Read(raw, TcpInfoField.TotalRetransmits),
            SendMaximumSegmentSize = (int)TcpInfoReader.Read(raw, TcpInfoField.SendMaximumSegmentSize),
            RoundTripTime = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.RoundTripTimeMicroseconds)),
            RoundTripTimeVariance = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.RoundTripTimeVarianceMicroseconds)),
            MinRoundTripTime = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.MinRoundTripTimeMicroseconds)),
            CongestionWindow = TcpInfoReader.Read(raw, TcpInfoField.CongestionWindow),
            SlowStartThreshold = TcpInfoReader.Read(raw, TcpInfoField.SlowStartThreshold),
            Retransmits = TcpInfoReader.Read(raw, TcpInfoField.Retransmits),
            Lost = TcpInfoReader.Read(raw, TcpInfoField.Lost),
            BytesAcked = TcpInfoReader.Read(raw, TcpInfoField.BytesAcked),
            DeliveryRate = TcpInfoReader.Read(raw, TcpInfoField.DeliveryRate),
            PacingRate = TcpInfoReader.Read(raw, TcpInfoField.PacingRate),
            BusyTime = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.BusyTimeMicroseconds)),
            ReceiveWindowLimitedTime = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.ReceiveWindowLimitedMicroseconds)),
            SendBufferLimitedTime = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.SendBufferLimitedMicroseconds)),
        };
        return true;
    }
}
