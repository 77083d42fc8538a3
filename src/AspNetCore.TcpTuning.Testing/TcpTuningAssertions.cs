using System.Globalization;

namespace AspNetCore.TcpTuning.Testing;

/// <summary>
/// Assertions on wire behaviour with messages that say what was measured and what to change. They throw
/// <see cref="TcpTuningAssertionException"/>, so they work under any test framework; <c>using static</c> this class reads
/// <c>AssertNoDelayedAckStall(latency)</c>.
/// </summary>
public static class TcpTuningAssertions
{
    /// <summary>The median under which no request waited for a delayed ACK: half of Linux's 40 ms timer.</summary>
    public static readonly TimeSpan DefaultStallThreshold = TimeSpan.FromMilliseconds(20);

    /// <summary>Asserts that a write-write-read client's requests did not wait for the server's delayed ACK.</summary>
    /// <param name="latency">What <see cref="WriteWriteReadClient.MeasureAsync"/> measured.</param>
    /// <param name="threshold">The median at or above which the requests count as stalled; <see cref="DefaultStallThreshold"/> when null.</param>
    public static void AssertNoDelayedAckStall(LatencySummary latency, TimeSpan? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(latency);
        var limit = threshold ?? DefaultStallThreshold;
        if (latency.P50 >= limit)
        {
            throw new TcpTuningAssertionException(string.Create(CultureInfo.InvariantCulture,
                $"The median request took {latency.P50.TotalMilliseconds:F1} ms (p99 {latency.P99.TotalMilliseconds:F1} ms, {latency.Count} requests), at least {limit.TotalMilliseconds:F0} ms: the client waited for the server's delayed ACK. Set the endpoint's QuickAck to Adaptive."));
        }
    }

    /// <summary>Asserts that a response left in at most <paramref name="segments"/> data segments.</summary>
    /// <param name="wire">What <see cref="TcpTuningTestHost.MeasureResponseAsync"/> measured.</param>
    /// <param name="segments">The most data segments allowed.</param>
    public static void AssertSegmentsAtMost(ResponseWireStats wire, long segments)
    {
        ArgumentNullException.ThrowIfNull(wire);
        if (wire.DataSegmentsOut > segments)
        {
            throw new TcpTuningAssertionException(string.Create(CultureInfo.InvariantCulture,
                $"The response left in {wire.DataSegmentsOut} data segments, more than {segments} ({wire.BytesOut} bytes fit in {wire.MinimumSegments} segments of {wire.SendMaximumSegmentSize} bytes): it was sent in more pieces than it needed. ResponseFlush: MessageBoundary holds a response's writes to its end; Cork fills whole segments."));
        }
    }

    /// <summary>Asserts that a socket option read from the server's socket has the expected value.</summary>
    /// <param name="actual">What <see cref="TcpTuningTestHost.GetServerSocketOptionAsync"/> read.</param>
    /// <param name="expected">The value the app's settings should give.</param>
    /// <param name="option">The option, for the message (e.g. <c>TCP_KEEPIDLE</c>).</param>
    public static void AssertSocketOption(int actual, int expected, string option)
    {
        if (actual != expected)
        {
            throw new TcpTuningAssertionException(string.Create(CultureInfo.InvariantCulture,
                $"The server's socket has {option} = {actual}, not {expected}: check the endpoint's TcpTuning settings and the startup log, which lists what each endpoint applied and skipped."));
        }
    }
}
