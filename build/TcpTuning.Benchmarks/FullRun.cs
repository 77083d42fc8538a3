using TcpTuning.Benchmarks.Reporting;
using TcpTuning.Benchmarks.Scenarios;

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
        try
        {
            await using var bare = await ServerProcess.StartAsync(tuned: false, veth is not null, options.SendCounter);
            await using var tuned = await ServerProcess.StartAsync(tuned: true, veth is not null, options.SendCounter);
            // nginx serves the same body sizes as the Cork scenarios from files.
            await using var nginx = veth is null ? null : await NginxServer.TryStartAsync(CorkWireScenario.NginxBodies);
            var context = new BenchContext(options, bare, tuned, Wrk.Find(), veth, vethUnavailable, nginx);

            // In the report's order.
            BenchScenario[] scenarios =
            [
                new DelayedAckScenario(context),
                new ThroughputScenario(context),
                new ThreadPoolScenario(context),
                new SendsScenario(context),
                new CorkWireScenario(context),
                new FlushDelayScenario(context),
                new CorkLoadScenario(context),
            ];

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
            veth?.Dispose();
        }
    }

    private static string Report(BenchContext context, BenchScenario[] scenarios, string[] args)
    {
        var report = new ReportWriter();
        report.Heading(1, "Benchmarks");
        report.Paragraph($"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `build/bench.sh{(args.Length > 0 ? " " + string.Join(' ', args) : "")}`.");
        report.Paragraph($"Machine: {Machine.Describe()}");
        report.Paragraph($"Bare Kestrel (no `UseTcpTuning`) and the tuned app run side by side as two server processes, each endpoint on its own 127.0.0.x address (plus fixed ports on a veth pair). Every figure is the median over {context.Options.Rounds} rounds; each round runs every configuration once, in an order rotated per round. \"bare Kestrel (A/A control)\" is a second endpoint of the bare server: its distance from \"bare Kestrel\" is the noise of the table. Server segments come from TCP_INFO on the server's socket, read by the handler; send syscalls from an LD_PRELOAD counter in the server process (`build/sendcount`, strace would change the timing); setsockopt calls from the library's own re-arm counter.");
        foreach (var scenario in scenarios)
        {
            scenario.WriteReport(report);
        }

        report.Heading(2, "Goals");
        report.Paragraph($"Each verdict is computed from the medians of the tables above.");
        report.Table("feature", "goal", "measured", "met");
        foreach (var goal in scenarios.SelectMany(s => s.Goals()))
        {
            report.Row($"{goal.Area} | {goal.Text} | {goal.Measured} | {(goal.Met ? "yes" : "**no**")}");
        }

        report.EndTable();
        return report.ToString();
    }
}
