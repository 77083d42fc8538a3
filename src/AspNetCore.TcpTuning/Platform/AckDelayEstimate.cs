using System.Net.Sockets;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// How long this server's TCP stack delays an ACK it cannot piggyback on data, and the connection's round trip: the
/// delay a peer held back by Nagle's algorithm waits for. Read from TCP_INFO on Linux; elsewhere the stack's usual
/// timer, and no round trip.
/// </summary>
/// <param name="AckDelay">The delayed-ACK timeout.</param>
/// <param name="RoundTrip">The smoothed round trip, or zero where unknown.</param>
internal readonly record struct AckDelayEstimate(TimeSpan AckDelay, TimeSpan RoundTrip)
{
    // Linux: TCP_DELACK_MIN and TCP_ATO_MIN (HZ/25); the timer is armed for the ACK timeout (tcpi_ato) capped at the
    // smoothed RTT, but never below TCP_DELACK_MIN (tcp_send_delayed_ack, net/ipv4/tcp_output.c).
    private static readonly TimeSpan s_linuxDelayedAckMinimum = TimeSpan.FromMilliseconds(40);

    // Windows' default delayed-ACK timer (TcpAckFrequency, 200 ms); macOS and FreeBSD's net.inet.tcp.delacktime (100 ms).
    private static readonly TimeSpan s_windowsDelayedAck = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_bsdDelayedAck = TimeSpan.FromMilliseconds(100);

    /// <summary>The estimate for <paramref name="socket"/> now.</summary>
    public static AckDelayEstimate Of(Socket socket, TcpPlatform platform)
    {
        if (platform.Kind == TcpPlatformKind.Linux)
        {
            Span<byte> raw = stackalloc byte[TcpInfoReader.Size];
            if (TcpInfoReader.TryRead(socket, raw) > 0)
            {
                var timeout = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.AckTimeoutMicroseconds));
                var roundTrip = TimeSpan.FromMicroseconds(TcpInfoReader.Read(raw, TcpInfoField.RoundTripTimeMicroseconds));
                return new(LinuxTimer(timeout, roundTrip), roundTrip);
            }
        }

        return Typical(platform);
    }

    /// <summary>The stack's usual delayed-ACK timer, for when TCP_INFO cannot say.</summary>
    public static AckDelayEstimate Typical(TcpPlatform platform) => platform.Kind switch
    {
        TcpPlatformKind.Windows => new(s_windowsDelayedAck, TimeSpan.Zero),
        TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd => new(s_bsdDelayedAck, TimeSpan.Zero),
        _ => new(s_linuxDelayedAckMinimum, TimeSpan.Zero),
    };

    /// <summary>Linux's timer for an ACK timeout and a smoothed RTT.</summary>
    public static TimeSpan LinuxTimer(TimeSpan ackTimeout, TimeSpan roundTrip)
    {
        if (ackTimeout <= s_linuxDelayedAckMinimum)
        {
            return s_linuxDelayedAckMinimum;
        }

        var cap = roundTrip > s_linuxDelayedAckMinimum ? roundTrip : s_linuxDelayedAckMinimum;
        return ackTimeout < cap ? ackTimeout : cap;
    }
}
