using System.Net.Sockets;
using AspNetCore.TcpTuning.Diagnostics;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Records a connection's TCP_INFO in the per-connection histograms as Kestrel disposes it, before its transport shuts
/// the socket. Made only while one of those histograms is listened to.
/// </summary>
internal sealed class ConnectionCloseRecorder(Socket socket, TcpTuningMetrics metrics, string? endpointName)
{
    private long _responses;
    private int _recorded;

    /// <summary>The HTTP layer began a response on this connection.</summary>
    public void OnResponse() => Interlocked.Increment(ref _responses);

    /// <summary>Kestrel is done with the connection: records once.</summary>
    public void OnClosing()
    {
        if (Interlocked.Exchange(ref _recorded, 1) == 0 && TcpConnectionInfo.TryRead(socket, out var info))
        {
            var responses = Volatile.Read(ref _responses);
            // Data segments are Linux's count only: elsewhere that histogram stays empty.
            metrics.ConnectionClosed(endpointName, info.RoundTripTime, info.TotalRetransmits, responses > 0 && info.DataSegmentsOut > 0 ? (double)info.DataSegmentsOut / responses : null);
        }
    }
}
