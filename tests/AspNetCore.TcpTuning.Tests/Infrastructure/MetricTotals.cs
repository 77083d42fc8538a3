using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>Sums the long counters of one app's meters (scoped to its IMeterFactory, so parallel tests do not mix).</summary>
public sealed class MetricTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public MetricTotals(IMeterFactory scope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == scope)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        _listener.Start();
    }

    public long this[string instrument] => _totals.TryGetValue(instrument, out var total) ? total : 0;

    public void Dispose() => _listener.Dispose();
}
