namespace AspNetCore.TcpTuning.Testing;

/// <summary>Percentiles of a set of request latencies.</summary>
public sealed record LatencySummary
{
    /// <summary>How many latencies were summarised.</summary>
    public required int Count { get; init; }

    /// <summary>The median.</summary>
    public required TimeSpan P50 { get; init; }

    /// <summary>The 99th percentile (nearest rank).</summary>
    public required TimeSpan P99 { get; init; }

    /// <summary>The largest.</summary>
    public required TimeSpan Max { get; init; }

    /// <summary>Summarises <paramref name="latencies"/> by nearest rank.</summary>
    /// <param name="latencies">At least one latency.</param>
    /// <returns>The summary.</returns>
    public static LatencySummary From(IEnumerable<TimeSpan> latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        var sorted = latencies.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("At least one latency is needed.", nameof(latencies));
        }

        return new LatencySummary
        {
            Count = sorted.Length,
            P50 = Percentile(sorted, 0.50),
            P99 = Percentile(sorted, 0.99),
            Max = sorted[^1],
        };
    }

    private static TimeSpan Percentile(TimeSpan[] sorted, double quantile)
        => sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
