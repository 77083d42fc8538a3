using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace AspNetCore.TcpTuning.Diagnostics;

/// <summary>The library's instruments, on the meter <see cref="MeterName"/>.</summary>
internal sealed class TcpTuningMetrics
{
    public const string MeterName = "AspNetCore.TcpTuning";

    private readonly Counter<long> _connectionsTuned;
    private readonly Counter<long> _socketOptionErrors;
    private readonly Counter<long> _quickAckRearms;
    private readonly Counter<long> _corkHolds;
    private readonly Counter<long> _corkReleases;
    private readonly Counter<long> _requestStalls;
    private readonly Counter<long> _responseFlushes;
    private readonly Histogram<long> _responseFlushSize;
    private readonly Histogram<double> _connectionRtt;
    private readonly Histogram<long> _connectionRetransmissions;
    private readonly Histogram<double> _connectionSegmentsPerResponse;

    public TcpTuningMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _connectionsTuned = meter.CreateCounter<long>(
            "tcp_tuning.connection.tuned", unit: "{connection}", description: "Accepted TCP connections whose endpoint settings were applied.");
        _socketOptionErrors = meter.CreateCounter<long>(
            "tcp_tuning.socket_option.error", unit: "{error}", description: "setsockopt calls that failed, by endpoint, option and error.");
        _quickAckRearms = meter.CreateCounter<long>(
            "tcp_tuning.quickack.rearm", unit: "{call}", description: "TCP_QUICKACK re-arms issued to avoid a delayed-ACK stall, by endpoint.");
        _corkHolds = meter.CreateCounter<long>(
            "tcp_tuning.cork.hold", unit: "{message}", description: "Messages whose partial segments the send side held back for more bytes or the message's end.");
        _corkReleases = meter.CreateCounter<long>(
            "tcp_tuning.cork.release", unit: "{release}", description: "Held bytes the send side sent before their message's end: at the hold bound (reason 'bound'), or because the connection was aborted (reason 'abort').");
        _responseFlushes = meter.CreateCounter<long>(
            "tcp_tuning.response.flush", unit: "{flush}", description: "Held response bytes the response-flush policy handed to the wire, by reason: end, explicit, threshold, delay, before_read, stream, error.");
        _responseFlushSize = meter.CreateHistogram<long>(
            "tcp_tuning.response.flush.size", unit: "By", description: "The response bytes held when the response-flush policy flushed them, by reason.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [128, 512, 1024, 4096, 16384, 65536, 262144] });
        _connectionRtt = meter.CreateHistogram<double>(
            "tcp_tuning.connection.rtt", unit: "s", description: "The smoothed round-trip time of a connection when it closes (TCP_INFO).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _connectionRetransmissions = meter.CreateHistogram<long>(
            "tcp_tuning.connection.retransmission", unit: "{segment}", description: "Segments a connection retransmitted in its life, recorded when it closes (TCP_INFO).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 1, 2, 5, 10, 50, 100] });
        _connectionSegmentsPerResponse = meter.CreateHistogram<double>(
            "tcp_tuning.connection.response.segment", unit: "{segment}", description: "Data segments a connection sent per response it served, recorded when it closes (TCP_INFO).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 3, 5, 10, 20, 50, 100, 1000] });
        _requestStalls = meter.CreateCounter<long>(
            "tcp_tuning.request.stall", unit: "{request}", description: "Requests whose rest arrived one delayed-ACK timeout after their first bytes: the client waited for the server's ACK (Nagle's algorithm).");
    }

    public void ConnectionTuned(string? endpointName)
    {
        if (_connectionsTuned.Enabled)
        {
            ConnectionTunedCore(endpointName);
        }
    }

    public void SocketOptionFailed(string? endpointName, string option, string error)
    {
        if (_socketOptionErrors.Enabled)
        {
            SocketOptionFailedCore(endpointName, option, error);
        }
    }

    public void QuickAckRearmed(string? endpointName, string? error)
    {
        if (error is not null)
        {
            SocketOptionFailed(endpointName, "QuickAck", error);
        }
        else if (_quickAckRearms.Enabled)
        {
            QuickAckRearmedCore(endpointName);
        }
    }

    /// <summary>Whether <see cref="ResponseFlushed"/> records anything: the caller skips finding its tags otherwise.</summary>
    public bool RecordsResponseFlushes => _responseFlushes.Enabled || _responseFlushSize.Enabled;

    /// <param name="endpointName">The connection's endpoint.</param>
    /// <param name="reason">The flush's reason, as its tag gives it.</param>
    /// <param name="heldBytes">The bytes held until this flush.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void ResponseFlushed(string? endpointName, string reason, long heldBytes)
    {
        var tags = new TagList { EndpointTag(endpointName), { "tcp_tuning.response.flush.reason", reason } };
        _responseFlushes.Add(1, tags);
        _responseFlushSize.Record(heldBytes, tags);
    }

    /// <summary>Whether a connection's close is recorded: the tuner makes a recorder only then.</summary>
    public bool RecordsConnectionClose => _connectionRtt.Enabled || _connectionRetransmissions.Enabled || _connectionSegmentsPerResponse.Enabled;

    /// <param name="endpointName">The connection's endpoint.</param>
    /// <param name="roundTrip">Its smoothed RTT.</param>
    /// <param name="retransmissions">The segments it retransmitted.</param>
    /// <param name="segmentsPerResponse">Its data segments per response, or null when it served none.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void ConnectionClosed(string? endpointName, TimeSpan roundTrip, long retransmissions, double? segmentsPerResponse)
    {
        var endpoint = EndpointTag(endpointName);
        _connectionRtt.Record(roundTrip.TotalSeconds, endpoint);
        _connectionRetransmissions.Record(retransmissions, endpoint);
        if (segmentsPerResponse is { } perResponse)
        {
            _connectionSegmentsPerResponse.Record(perResponse, endpoint);
        }
    }

    public void RequestStalled(string? endpointName)
    {
        if (_requestStalls.Enabled)
        {
            RequestStalledCore(endpointName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RequestStalledCore(string? endpointName) => _requestStalls.Add(1, EndpointTag(endpointName));

    public void CorkHeld(string? endpointName)
    {
        if (_corkHolds.Enabled)
        {
            CorkHeldCore(endpointName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CorkHeldCore(string? endpointName) => _corkHolds.Add(1, EndpointTag(endpointName));

    /// <param name="endpointName">The connection's endpoint.</param>
    /// <param name="reason"><c>bound</c> or <c>abort</c>.</param>
    public void CorkReleased(string? endpointName, string reason)
    {
        if (_corkReleases.Enabled)
        {
            CorkReleasedCore(endpointName, reason);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CorkReleasedCore(string? endpointName, string reason)
        => _corkReleases.Add(1, EndpointTag(endpointName), new KeyValuePair<string, object?>("tcp_tuning.cork.release.reason", reason));

    private static KeyValuePair<string, object?> EndpointTag(string? endpointName)
        => new("tcp_tuning.endpoint", endpointName ?? "(defaults)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void QuickAckRearmedCore(string? endpointName) => _quickAckRearms.Add(1, EndpointTag(endpointName));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ConnectionTunedCore(string? endpointName)
        => _connectionsTuned.Add(1, EndpointTag(endpointName));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SocketOptionFailedCore(string? endpointName, string option, string error)
    {
        var tags = new TagList
        {
            EndpointTag(endpointName),
            { "tcp_tuning.option", option },
            { "error.type", error },
        };
        _socketOptionErrors.Add(1, tags);
    }
}
