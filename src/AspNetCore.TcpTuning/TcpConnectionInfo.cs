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
        };
        return true;
    }
}
