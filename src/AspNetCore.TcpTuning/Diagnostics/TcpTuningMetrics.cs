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
    private readonly Counter<long> _corkSafetyReleases;
    private readonly Counter<long> _corks;

    public TcpTuningMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _connectionsTuned = meter.CreateCounter<long>(
            "tcp_tuning.connections.tuned", unit: "{connection}", description: "Accepted TCP connections whose endpoint settings were applied.");
        _socketOptionErrors = meter.CreateCounter<long>(
            "tcp_tuning.socket_option.errors", unit: "{error}", description: "setsockopt calls that failed, by option and error.");
        _quickAckRearms = meter.CreateCounter<long>(
            "tcp_tuning.quickack.rearms", unit: "{call}", description: "TCP_QUICKACK re-arms issued to avoid a delayed-ACK stall.");
        _corks = meter.CreateCounter<long>(
            "tcp_tuning.cork.corks", unit: "{cork}", description: "Messages whose partial segments the send side held back for more bytes or the message's end.");
        _corkSafetyReleases = meter.CreateCounter<long>(
            "tcp_tuning.cork.safety_releases", unit: "{release}", description: "Held partial segments sent by the safety net because no message end was marked in time.");
    }

    public void ConnectionTuned(string? endpointName)
    {
        if (_connectionsTuned.Enabled)
        {
            ConnectionTunedCore(endpointName);
        }
    }

    public void SocketOptionFailed(string option, string error)
    {
        if (_socketOptionErrors.Enabled)
        {
            SocketOptionFailedCore(option, error);
        }
    }

    public void QuickAckRearmed(string? error)
    {
        if (error is not null)
        {
            SocketOptionFailed("QuickAck", error);
        }
        else if (_quickAckRearms.Enabled)
        {
            QuickAckRearmedCore();
        }
    }

    public void Corked()
    {
        if (_corks.Enabled)
        {
            CorkedCore();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CorkedCore() => _corks.Add(1);

    public void CorkSafetyReleased()
    {
        if (_corkSafetyReleases.Enabled)
        {
            CorkSafetyReleasedCore();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CorkSafetyReleasedCore() => _corkSafetyReleases.Add(1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void QuickAckRearmedCore() => _quickAckRearms.Add(1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ConnectionTunedCore(string? endpointName)
        => _connectionsTuned.Add(1, new KeyValuePair<string, object?>("tcp_tuning.endpoint", endpointName ?? "(defaults)"));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SocketOptionFailedCore(string option, string error)
    {
        var tags = new TagList
        {
            { "tcp_tuning.option", option },
            { "error.type", error },
        };
        _socketOptionErrors.Add(1, tags);
    }
}
