using TcpTuning.Benchmarks.Reporting;
using TcpTuning.Benchmarks.Scenarios;
using TcpTuning.Benchmarks.Wan;

namespace TcpTuning.Benchmarks;

/// <summary>
/// The full run: bare Kestrel and the tuned app as two server processes, every scenario's runs interleaved round by
/// round (each round in a rotated order), then the scenarios that need processes or load of their own, then the report.
/// </summary>
internal static class FullRun
{
    public static async Task<int> RunAsync(BenchOptions options, string[] args)
    {
        var veth = VethNamespace.TryCreate(out var vethUnavailable);
        // The WAN path reaches the servers' veth endpoints, so it needs the veth pair.
        string? wanUnavailable = "the veth pair it routes to is not there: " + vethUnavailable;
        var wan = veth is null ? null : WanLink.TryCreate(out wanUnavailable);
        try
        {
            await using var bare = await ServerProcess.StartAsync(tuned: false, veth is not null, options.SendCounter);
            await using var tuned = await ServerProcess.StartAsync(tuned: true, veth is not null, options.SendCounter);
            // nginx serves the same body sizes as the Cork scenarios from files.
            await using var nginx = veth is null ? null : await NginxServer.TryStartAsync(CorkWireScenario.NginxBodies);
            var context = new BenchContext(options, bare, tuned, Wrk.Find(), veth, vethUnavailable, nginx, wan, wanUnavailable);

            // In the report's order.
            BenchScenario[] all =
            [
                new DelayedAckScenario(context),
                new ThroughputScenario(context),
                new ThreadPoolScenario(context),
                new SendsScenario(context),
                new CorkWireScenario(context),
                new FlushDelayScenario(context),
                new CorkLoadScenario(context),
                new MemoryScenario(context),
                new WanScenario(context),
            ];

            // The quick run leaves out what needs processes or minutes of its own.
            var scenarios = options.Quick ? all.Where(s => s is not (ThreadPoolScenario or CorkLoadScenario)).ToArray() : all;
            if (options.Scenarios is { } names)
            {
                if (names.Except(all.Select(s => s.Name)).FirstOrDefault() is { } unknown)
                {
                    await Console.Error.WriteLineAsync($"--scenario {unknown}: no such scenario (there are {string.Join(", ", all.Select(s => s.Name))})");
                    return 2;
                }

                scenarios = scenarios.Where(s => names.Contains(s.Name)).ToArray();
            }

            foreach (var scenario in scenarios)
            {
                await scenario.WarmUpAsync();
            }

            await bare.TakeConnectionsAsync();
            await tuned.TakeConnectionsAsync();
            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var scenario in scenarios)
                {
                    await scenario.RunRoundAsync(round);
                }
            }

            foreach (var scenario in scenarios)
            {
                await scenario.RunAloneAsync();
            }

            await File.WriteAllTextAsync(options.Output, Report(context, scenarios, args));
            Console.WriteLine($"wrote {options.Output}");
            return 0;
        }
        finally
        {
            wan?.Dispose();
            veth?.Dispose();
        }
    }

    // The pictures, first: each draws figures the tables below give.
    private static void WriteCharts(ReportWriter report, Charts charts, BenchScenario[] scenarios)
    {
        report.Heading(2, "At a glance");
        if (scenarios.OfType<DelayedAckScenario>().SingleOrDefault() is { } delayedAck)
        {
            report.Image("Write-write-read latency on loopback, bare Kestrel against the library", charts.LatencyDistribution(
                "latency-loopback.svg",
                "Nagle client, headers and body in two sends: loopback",
                [(BenchContext.Bare, delayedAck.SplitLatencies(BenchContext.Bare)), ("Adaptive (the library's default QuickAck)", delayedAck.SplitLatencies("Adaptive"))]));
        }

        if (scenarios.OfType<WanScenario>().SingleOrDefault() is { } wan)
        {
            foreach (var profile in WanScenario.Paths.Select(p => p.Name))
            {
                var series = wan.ConfigurationNames.Take(2).Select(name => (name, wan.Latencies(profile, WanScenario.Post, name))).ToArray();
                if (series.Any(s => s.Item2.Count > 0))
                {
                    report.Image($"Write-write-read latency across {profile}", charts.LatencyDistribution(
                        $"latency-wan-{string.Join('-', profile.Split([' ', ',', '%', '.'], StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant()}.svg",
                        $"Nagle client, headers and body in two sends: {profile}",
                        series));
                }
            }
        }

        if (scenarios.OfType<CorkWireScenario>().SingleOrDefault() is { } cork && cork.SegmentRows().ToArray() is { Length: > 0 } rows)
        {
            var responses = rows.Select(r => r.Response).Distinct().ToArray();
            var series = rows.Select(r => r.Configuration).Distinct()
                .Select(name => (name, responses.Select(response => rows.Where(r => r.Response == response && r.Configuration == name).Select(r => r.Segments / r.Minimum).DefaultIfEmpty(double.NaN).First()).ToArray()))
                .ToArray();
            report.Image("Data segments per response against the minimum", charts.GroupedBars(
                "segments.svg", "Data segments per response, as a multiple of the minimum (veth, MTU 1500)", "segments / minimum", responses, series, goal: 1, goalLabel: "the minimum"));
        }

        if (scenarios.OfType<ThroughputScenario>().SingleOrDefault() is { } throughput && throughput.CeilingRatios().ToArray() is { Length: > 0 } ratios)
        {
            var counts = ratios.Select(r => r.Connections).Distinct().Order().ToArray();
            var series = ratios.Select(r => r.Response).Distinct()
                .Select(response => (response, counts.Select(c => ratios.Where(r => r.Response == response && r.Connections == c).Select(r => r.Ratio).DefaultIfEmpty(double.NaN).First()).ToArray()))
                .ToArray();
            report.Image("Library defaults against the hand-buffered ceiling by wrk connections", charts.GroupedBars(
                "ceiling.svg", "Chatty responses: library defaults / hand-buffered ceiling (requests per second)", "ratio", counts.Select(c => $"{c} connections").ToArray(), series, goal: 0.95, goalLabel: "goal 0.95"));
        }
    }

    private static string Report(BenchContext context, BenchScenario[] scenarios, string[] args)
    {
        var report = new ReportWriter();
        report.Heading(1, "Benchmarks");
        report.Paragraph($"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `build/bench.sh{(args.Length > 0 ? " " + string.Join(' ', args) : "")}`.");
        report.Paragraph($"Machine: {Machine.Describe()}");
        report.Paragraph($"Bare Kestrel (no `UseTcpTuning`) and the tuned app run side by side as two server processes, each endpoint on its own 127.0.0.x address (plus fixed ports on a veth pair). Every figure is the median over {context.Options.Rounds} rounds; each round runs every configuration once, in an order rotated per round. \"bare Kestrel (A/A control)\" is a second endpoint of the bare server: its distance from \"bare Kestrel\" is the noise of the table. Server segments come from TCP_INFO on the server's socket, read by the handler; send syscalls from an LD_PRELOAD counter in the server process (`build/sendcount`, strace would change the timing); setsockopt calls from the library's own re-arm counter.");
        WriteCharts(report, new Charts(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(context.Options.Output))!, Path.GetFileNameWithoutExtension(context.Options.Output) + "-charts")), scenarios);
        foreach (var scenario in scenarios)
        {
            scenario.WriteReport(report);
        }

        report.Heading(2, "Goals");
        report.Paragraph($"Each verdict is computed from the medians of the tables above (gen1 collections pooled over the rounds). \"Run by run\": each run's ratio to the run of its baseline in the same pass, seconds apart: their median and range show how far this machine's noise moves a verdict.");
        report.Table("feature", "goal", "measured", "met");
        foreach (var goal in scenarios.SelectMany(s => s.Goals()))
        {
            report.Row($"{goal.Area} | {goal.Text} | {goal.Measured} | {(goal.Met ? "yes" : "**no**")}");
        }

        report.EndTable();
        return report.ToString();
    }
}
