using AspNetCore.TcpTuning.Diagnostics;

namespace AspNetCore.TcpTuning;

/// <summary>The library's telemetry names, for OpenTelemetry and <c>dotnet-counters</c> configuration.</summary>
/// <example><code>builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(TcpTuningMeter.Name));</code></example>
public static class TcpTuningMeter
{
    /// <summary>The name of the meter every instrument of the library is on.</summary>
    public const string Name = TcpTuningMetrics.MeterName;
}
