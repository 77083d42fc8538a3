using System.Globalization;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Requests per second and server CPU per request under wrk on loopback: plaintext, pipelined plaintext and the two
/// chatty responses (64 x 100 B) for every configuration, and the chatty ones again at other connection counts.
/// </summary>
internal sealed class ThroughputScenario(BenchContext context) : BenchScenario(context)
{
    public const string ChattyBackToBack = "chatty, back to back (64 x 100 B)";
    public const string ChattyAsync = "chatty, await between writes (64 x 100 B)";
    private const string Plaintext = "plaintext";
    private const string Pipelined = "pipelined plaintext (depth 16)";

    /// <summary>The wrk connections of the main tables.</summary>
    private const int MainConnections = 32;

    /// <summary>wrk connections besides the main tables' 32, for the chatty scenarios: how the ratio to bare moves with load.</summary>
    private static readonly int[] s_connectionCounts = [4, 128];

    // The quick run sweeps one other connection count, the lightest.
    private int[] SweptCounts => Context.Options.Quick ? s_connectionCounts[..1] : s_connectionCounts;

    /// <summary>"Default" (QuickAck Default, PerWrite) is the tuned process with no connection wrappers: the control for "Adaptive".</summary>
    public static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] FlushModes =
        BenchEndpoints.Loopback.Where(e => e.QuickAck is null || e.Name is "Default" or "Adaptive" || e.ResponseFlush == "MessageBoundary").ToArray();

    /// <summary>Bare Kestrel, the ceiling (a handler that buffers in Kestrel itself, on the bare server) and the library defaults.</summary>
    public static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] CeilingModes =
    [
        .. BenchEndpoints.Loopback.Where(e => e.Name is BenchContext.Bare or BenchContext.Defaults),
        (BenchContext.Ceiling, BenchEndpoints.Loopback.Single(e => e.Name == BenchContext.Bare).Host, null, null),
    ];

    /// <summary>The ceiling's handler on the tuned server's Adaptive endpoint: the library defaults' process and wrappers, no policy.</summary>
    private static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush) s_tunedCeiling =
        (BenchContext.TunedCeiling, BenchEndpoints.Loopback.Single(e => e.Name == "Adaptive").Host, "Adaptive", null);

    // The chatty runs at other connection counts: the ceiling modes and the ceiling in the tuned server.
    private static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] s_sweepModes =
        [.. CeilingModes, s_tunedCeiling];

    private static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] s_chattyModes =
        [.. FlushModes, CeilingModes[^1], s_tunedCeiling];

    // Passes: runs of every configuration per round. The plaintext goals are a few percent either way, within the noise
    // of a 3-second run on 2 shared cores: twice the runs for those cheap scenarios.
    private static readonly WrkScenario[] s_scenarios =
    [
        new(Plaintext, "/plaintext", Script: null, BenchEndpoints.Loopback, Passes: 2),
        new(Pipelined, "/plaintext", "pipeline.lua", FlushModes, Passes: 2),
        new(ChattyBackToBack, "/chatty", Script: null, s_chattyModes, Passes: 1),
        new(ChattyAsync, "/chatty-async", Script: null, s_chattyModes, Passes: 1),
    ];

    /// <summary>The URL of a configuration: the ceiling serves the same response from its own route.</summary>
    public static Uri UrlOf(ServerProcess server, string name, string host, string path)
        => new(server.AddressOn(host), name is BenchContext.Ceiling or BenchContext.TunedCeiling ? path + "-ideal" : path);

    public override async Task WarmUpAsync()
    {
        // JIT and connection paths of every endpoint.
        if (Context.Wrk is { } wrk)
        {
            foreach (var (_, host, quickAck, _) in BenchEndpoints.Loopback)
            {
                await wrk.RunAsync(new Uri(Context.ServerOf(quickAck).AddressOn(host), "/chatty-async"), 1);
            }
        }
    }

    public override async Task RunRoundAsync(int round)
    {
        if (Context.Wrk is not { } wrk)
        {
            return;
        }

        foreach (var scenario in s_scenarios)
        {
            foreach (var (name, host, quickAck, _) in Stats.RotatePasses(scenario.Modes, round, Context.Options.Quick ? 1 : scenario.Passes))
            {
                var server = Context.ServerOf(quickAck);
                var sendsBefore = await server.SendsAsync();
                var cpuBefore = server.CpuTime;
                var script = scenario.Script is null ? null : Path.Combine(AppContext.BaseDirectory, scenario.Script);
                var result = await wrk.RunAsync(UrlOf(server, name, host, scenario.Path), Context.Options.WrkSeconds, MainConnections, script, scriptArguments: script is null ? null : "16");
                var cpuPerRequest = (server.CpuTime - cpuBefore).TotalMicroseconds / result.Requests;
                var sendsAfter = await server.SendsAsync();
                Measured.Add("rps", scenario.Name, name, result.RequestsPerSecond);
                Measured.Add("cpu", scenario.Name, name, cpuPerRequest);
                if (sendsBefore >= 0)
                {
                    // The first /__sends answer is one send of the server's own. Requests still in flight when wrk stops may
                    // have sent without being counted by wrk: a negligible excess over a run.
                    Measured.Add("sends", scenario.Name, name, (sendsAfter - sendsBefore - 1) / (double)result.Requests);
                }

                Context.Progress(round, $"wrk {scenario.Name,-42} {name,-46} {result.RequestsPerSecond,9:F0} req/s {cpuPerRequest,7:F2} us CPU");
            }
        }

        foreach (var scenario in s_scenarios.Where(s => s.Name is ChattyBackToBack or ChattyAsync))
        {
            foreach (var connections in SweptCounts)
            {
                foreach (var (name, host, quickAck, _) in Stats.Rotate(s_sweepModes, round))
                {
                    var value = (await wrk.RunAsync(UrlOf(Context.ServerOf(quickAck), name, host, scenario.Path), Context.Options.WrkSeconds, connections)).RequestsPerSecond;
                    Measured.Add("rps", SweepKey(scenario.Name, connections), name, value);
                    Context.Progress(round, $"wrk {scenario.Name,-42} c{connections,-4} {name,-46} {value,9:F0} req/s");
                }
            }
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Throughput (wrk)");
        if (Context.Wrk is null)
        {
            report.Paragraph($"wrk was not found; run `build/bench.sh`, which installs it.");
            return;
        }

        report.Paragraph($"`wrk -t1 -c{MainConnections} -d{Context.Options.WrkSeconds}s`, pipelining with `build/TcpTuning.Benchmarks/pipeline.lua` (16 requests per write). wrk and the server share the 2 cores. \"Default\" (QuickAck `Default`, `PerWrite`) runs in the tuned server with no connection-layer wrappers: next to \"Adaptive\" it separates the cost of the wrappers from that of the process. Server CPU per request is the server process's user and system time over the run divided by the requests wrk completed: it is what a request costs, and it moves less between runs than the rate, which also depends on how the thread pool happens to schedule (below). Send syscalls per response come from the LD_PRELOAD counter over the same run.");
        foreach (var scenario in s_scenarios)
        {
            report.Heading(3, scenario.Name);
            if (scenario.Passes > 1 && !Context.Options.Quick)
            {
                report.Paragraph($"{scenario.Passes} runs of every configuration per round: {scenario.Passes * Context.Options.Rounds} runs each.");
            }

            report.Table("configuration", ">requests/s", ">ratio to bare", ">ratio to bare run by run: median (range)", ">server CPU µs per request", ">CPU ratio to bare", ">send syscalls per response");
            var baseline = Measured.Median("rps", scenario.Name, BenchContext.Bare);
            var baselineCpu = Measured.Median("cpu", scenario.Name, BenchContext.Bare);
            foreach (var (name, _, _, _) in scenario.Modes)
            {
                var value = Measured.Median("rps", scenario.Name, name);
                var cost = Measured.Median("cpu", scenario.Name, name);
                var (pairedMedian, pairedLow, pairedHigh) = Measured.PairedRatio("rps", scenario.Name, name, BenchContext.Bare);
                report.Row($"{name} | {value:F0} | {value / baseline:F2} | {pairedMedian:F2} ({pairedLow:F2}-{pairedHigh:F2}) | {cost:F2} | {cost / baselineCpu:F2} | {Measured.Cell("sends", scenario.Name, name, "F3")}");
            }

            report.EndTable();
        }

        report.Heading(3, "chatty, by wrk connections");
        report.Paragraph($"The two chatty scenarios at other wrk connection counts (`-c`), the same servers and rounds; the {MainConnections}-connection rows are the tables above. Bare Kestrel's rate, and so every ratio to it, moves with the load; the library's ratio to the ceiling is what it controls. \"ceiling in the tuned server\" runs the ceiling's handler on the tuned server's `Adaptive` endpoint (`PerWrite`): the library defaults' process and connection wrappers without the flush policy. Where it is level with the ceiling, the library's distance from the ceiling is the flush policy's own.");
        report.Table("response", ">connections", ">bare Kestrel req/s", ">ceiling req/s", ">library defaults req/s", ">ceiling / bare", ">library defaults / bare", ">library defaults / ceiling", ">ceiling in the tuned server req/s", ">ceiling in the tuned server / ceiling", ">library defaults / ceiling in the tuned server");
        foreach (var scenario in new[] { ChattyBackToBack, ChattyAsync })
        {
            foreach (var connections in SweptCounts.Append(MainConnections).Order())
            {
                var key = SweepKey(scenario, connections);
                report.Row($"{scenario} | {connections} | {CeilingCells(Measured, key)} | {TunedCeilingCells(Measured, key)}");
            }
        }

        report.EndTable();
    }

    public override IEnumerable<Goal> Goals()
    {
        if (Context.Wrk is null)
        {
            yield break;
        }

        const string Flush = "flush policy";
        yield return RatioGoal("QuickAck", "Adaptive plaintext RPS >= 0.98 of bare", Plaintext, "Adaptive", 0.98, withControl: true);
        yield return RatioGoal(Flush, "library defaults plaintext RPS >= 0.99 of bare", Plaintext, BenchContext.Defaults, 0.99, withControl: false);
        yield return RatioGoal(Flush, "library defaults pipelined plaintext RPS >= 0.98 of bare", Pipelined, BenchContext.Defaults, 0.98, withControl: false);
        foreach (var scenario in new[] { ChattyBackToBack, ChattyAsync })
        {
            foreach (var connections in SweptCounts.Append(MainConnections).Order())
            {
                yield return CeilingGoal(Measured, $"{scenario}, {connections} connections", SweepKey(scenario, connections));
            }
        }
    }

    /// <summary>Library defaults / ceiling for each chatty response by wrk connections (the chart of the sweep).</summary>
    public IEnumerable<(string Response, int Connections, double Ratio)> CeilingRatios()
        => from scenario in new[] { ChattyBackToBack, ChattyAsync }
           from connections in SweptCounts.Append(MainConnections).Order()
           let key = SweepKey(scenario, connections)
           where Measured.Has("rps", key, BenchContext.Ceiling)
           select (scenario, connections, Measured.Median("rps", key, BenchContext.Defaults) / Measured.Median("rps", key, BenchContext.Ceiling));

    /// <summary>The measurement key of a chatty scenario at a connection count (the main tables' own at 32).</summary>
    public static string SweepKey(string scenario, int connections) => connections == MainConnections ? scenario : $"{scenario} c{connections}";

    /// <summary>The rates of bare Kestrel, the ceiling and the library defaults, and their ratios: the cells of a ceiling table row.</summary>
    public static FormattableString CeilingCells(Measurements measured, string scenario)
    {
        var bare = measured.Median("rps", scenario, BenchContext.Bare);
        var ceiling = measured.Median("rps", scenario, BenchContext.Ceiling);
        var defaults = measured.Median("rps", scenario, BenchContext.Defaults);
        return $"{bare:F0} | {ceiling:F0} | {defaults:F0} | {ceiling / bare:F2} | {defaults / bare:F2} | {defaults / ceiling:F2}";
    }

    // The ceiling in the tuned server's rate, its ratio to the ceiling, and the library defaults' ratio to it.
    private static FormattableString TunedCeilingCells(Measurements measured, string scenario)
    {
        if (!measured.Has("rps", scenario, BenchContext.TunedCeiling))
        {
            return $"n/a | n/a | n/a";
        }

        var tuned = measured.Median("rps", scenario, BenchContext.TunedCeiling);
        return $"{tuned:F0} | {measured.MedianRatio("rps", scenario, BenchContext.TunedCeiling, BenchContext.Ceiling):F2} | {measured.MedianRatio("rps", scenario, BenchContext.Defaults, BenchContext.TunedCeiling):F2}";
    }

    /// <summary>
    /// The library defaults at >= 0.95 of the hand-buffered ceiling: the best a flush policy can do. The verdict is the
    /// ratio of the medians; the round-by-round ratios and the CPU per response beside it show how far noise moves it.
    /// </summary>
    public static Goal CeilingGoal(Measurements measured, string label, string scenario)
    {
        var ratio = measured.MedianRatio("rps", scenario, BenchContext.Defaults, BenchContext.Ceiling);
        var text = string.Create(CultureInfo.InvariantCulture, $"{ratio:F2} ({RunByRun(measured, scenario, BenchContext.Defaults, BenchContext.Ceiling)}");
        if (measured.Has("cpu", scenario, BenchContext.Ceiling))
        {
            text += string.Create(CultureInfo.InvariantCulture, $"; CPU per response {measured.MedianRatio("cpu", scenario, BenchContext.Defaults, BenchContext.Ceiling):F2}x the ceiling's");
        }

        if (measured.Has("rps", scenario, BenchContext.TunedCeiling))
        {
            // Not the verdict: the same ratio against the ceiling in the library's own process, which separates the policy.
            text += string.Create(CultureInfo.InvariantCulture, $"; against the ceiling in the tuned server {measured.MedianRatio("rps", scenario, BenchContext.Defaults, BenchContext.TunedCeiling):F2} ({RunByRun(measured, scenario, BenchContext.Defaults, BenchContext.TunedCeiling)})");
        }

        return new Goal("flush policy", $"{label}: library defaults >= 0.95 of the ceiling", text + ")", ratio >= 0.95);
    }

    // The paired ratios of a goal row (each run against the baseline's run of the same pass): median and range.
    private static string RunByRun(Measurements measured, string scenario, string name, string baseline)
    {
        var (median, low, high) = measured.PairedRatio("rps", scenario, name, baseline);
        return string.Create(CultureInfo.InvariantCulture, $"run by run {median:F2}, {low:F2}-{high:F2}");
    }

    private Goal RatioGoal(string area, string text, string scenario, string name, double goal, bool withControl)
    {
        var ratio = Measured.MedianRatio("rps", scenario, name, BenchContext.Bare);
        var measured = string.Create(CultureInfo.InvariantCulture, $"{ratio:F2} ({RunByRun(Measured, scenario, name, BenchContext.Bare)})");
        if (withControl)
        {
            measured += string.Create(CultureInfo.InvariantCulture, $"; A/A control {Measured.MedianRatio("rps", scenario, BenchContext.BareControl, BenchContext.Bare):F2} ({RunByRun(Measured, scenario, BenchContext.BareControl, BenchContext.Bare)})");
        }

        return new Goal(area, text, measured, ratio >= goal);
    }

    private sealed record WrkScenario(string Name, string Path, string? Script, (string Name, string Host, string? QuickAck, string? ResponseFlush)[] Modes, int Passes);
}
