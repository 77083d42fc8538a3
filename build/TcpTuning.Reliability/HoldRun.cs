using System.Diagnostics;
using System.Globalization;
using AspNetCore.TcpTuning.Configuration;
using TcpTuning.Reliability.Wire;

namespace TcpTuning.Reliability;

/// <summary>How long each write of the hold probes waited between its write call and its first byte's arrival.</summary>
internal sealed record HoldResult(string Configuration, string Protocol, int Writes, double P50Ms, double P99Ms, double MaxMs, string WorstProbe, int OverMaxFlushDelay);

internal static class HoldRun
{
    /// <summary>The servers' <c>MaxFlushDelay</c>: the library's default, which they do not override.</summary>
    public static readonly double MaxFlushDelayMs = TcpTuningDefaults.MaxFlushDelay.TotalMilliseconds;

    /// <summary>The goal's allowance over <c>MaxFlushDelay</c>, for scheduling and the loopback hop.</summary>
    public const double GoalAllowanceMs = 3;

    /// <summary>The most a write's p99 may wait: <c>MaxFlushDelay</c> plus the allowance.</summary>
    public static readonly double GoalMs = MaxFlushDelayMs + GoalAllowanceMs;

    public static async Task<List<HoldResult>> RunAsync(ReliabilityServer server, int probes, CancellationToken cancellationToken)
    {
        var results = new List<HoldResult>();
        foreach (var configuration in new[] { "Bare", "Boundary", "CorkBoundary", "PerWrite", "CorkPerWrite" })
        {
            foreach (var protocol in new[] { "http1", "https1" })
            {
                var holds = new List<(double Ms, string Probe)>();
                var target = server.Get(configuration);
                var address = protocol == "http1" ? target.Http : target.Https;
                // Not counted: the endpoint's first response runs its code paths cold (JIT, first connection).
                await ProbeAsync(address, seed: 0);
                for (var seed = 1; seed <= probes && !cancellationToken.IsCancellationRequested; seed++)
                {
                    holds.AddRange(await ProbeAsync(address, seed));
                }

                holds.Sort((a, b) => a.Ms.CompareTo(b.Ms));
                results.Add(new HoldResult(configuration, protocol, holds.Count, Percentile(holds, 0.5), Percentile(holds, 0.99), holds.Count == 0 ? 0 : holds[^1].Ms, holds.Count == 0 ? "" : holds[^1].Probe, holds.Count(h => h.Ms > MaxFlushDelayMs)));
            }
        }

        return results;
    }

    private static double Percentile(List<(double Ms, string Probe)> sorted, double p)
        => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)].Ms;

    private static async Task<List<(double, string)>> ProbeAsync(Uri address, int seed)
    {
        var probe = HoldProbe.Generate(seed);
        var id = Guid.NewGuid().ToString("N");
        await using var connection = await RawHttpConnection.ConnectAsync(address);
        await connection.SendGetAsync(string.Create(CultureInfo.InvariantCulture, $"/hold?seed={seed}&id={id}"));
        var arrivals = new long[probe.Writes.Count];
        var buffer = new byte[65536];
        var seen = 0;
        var headersDone = false;
        var tail = new List<byte>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (seen < probe.Writes.Count)
        {
            var read = await connection.Stream.ReadAsync(buffer, timeout.Token);
            var now = Stopwatch.GetTimestamp();
            if (read == 0)
            {
                break;
            }

            var span = buffer.AsSpan(0, read);
            if (!headersDone)
            {
                tail.AddRange(span.ToArray());
                var all = tail.ToArray();
                var end = all.AsSpan().IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    continue;
                }

                headersDone = true;
                span = all.AsSpan(end + 4);
            }

            while (seen < probe.Writes.Count && span.IndexOf(HoldProbe.FillOf(seen)) >= 0)
            {
                arrivals[seen++] = now;
            }
        }

        var holds = new List<(double, string)>();
        for (var k = 0; k < seen; k++)
        {
            var written = ReliabilityServer.WriteTimes[(id, k)];
            var (api, size, _) = probe.Writes[k];
            holds.Add((Stopwatch.GetElapsedTime(written, arrivals[k]).TotalMilliseconds, $"seed {seed} write {k} ({api}, {size} B)"));
        }

        return holds;
    }
}
