using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AspNetCore.TcpTuning.Testing;

/// <summary>
/// The measurements of the library's meter (<see cref="TcpTuningMeter.Name"/>) in one app, from when it is created
/// until it is disposed. Made by <see cref="TcpTuningTestHost.CaptureMetrics"/>.
/// </summary>
public sealed class TcpTuningMetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<CapturedMeasurement> _measurements = new();

    internal TcpTuningMetricCapture(object? meterScope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TcpTuningMeter.Name && ReferenceEquals(instrument.Meter.Scope, meterScope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Every measurement so far, in order.</summary>
    public IReadOnlyList<CapturedMeasurement> Measurements => _measurements.ToArray();

    /// <summary>The sum of an instrument's measurements, of one endpoint or all.</summary>
    /// <param name="instrument">The instrument, e.g. <c>tcp_tuning.request.stall</c>.</param>
    /// <param name="endpoint">The endpoint's name (<c>tcp_tuning.endpoint</c>), or null for all.</param>
    /// <returns>The sum.</returns>
    public double Sum(string instrument, string? endpoint = null)
        => _measurements.Where(m => m.Instrument == instrument && (endpoint is null || m.Endpoint == endpoint)).Sum(m => m.Value);

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copied = new Dictionary<string, object?>(tags.Length, StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copied[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new CapturedMeasurement(instrument.Name, value, copied));
    }
}

/// <summary>One measurement of the library's meter.</summary>
/// <param name="Instrument">The instrument's name.</param>
/// <param name="Value">The value.</param>
/// <param name="Tags">Its tags.</param>
public sealed record CapturedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The <c>tcp_tuning.endpoint</c> tag.</summary>
    public string? Endpoint => Tags.TryGetValue("tcp_tuning.endpoint", out var endpoint) ? endpoint as string : null;
}
