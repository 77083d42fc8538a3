using System.Globalization;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// The chatty response with awaits between writes under fixed thread-pool sizes: its ratio to bare depends on how many
/// workers run. Each size runs in a pair of processes of its own (the size is a runtime setting read at start).
/// </summary>
internal sealed class ThreadPoolScenario(BenchContext context) : BenchScenario(context)
{
    private static readonly int[] s_workerCounts = [1, 2, 4];

    public override async Task RunAloneAsync()
    {
        if (Context.Wrk is not { } wrk)
        {
            return;
        }

        foreach (var workers in s_workerCounts)
        {
            var environment = new Dictionary<string, string>
            {
                ["DOTNET_ThreadPool_ForceMinWorkerThreads"] = workers.ToString(CultureInfo.InvariantCulture),
                ["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = workers.ToString(CultureInfo.InvariantCulture),
            };
            await using var bare = await ServerProcess.StartAsync(tuned: false, veth: false, sendCounter: null, environment);
            await using var tuned = await ServerProcess.StartAsync(tuned: true, veth: false, sendCounter: null, environment);
            Uri UrlOf(string name, string host) => ThroughputScenario.UrlOf(name == BenchContext.Defaults ? tuned : bare, name, host, "/chatty-async");

            // New processes: long enough a warm-up for the JIT to reach tier 1 on a saturated pool.
            foreach (var (name, host, _, _) in ThroughputScenario.CeilingModes)
            {
                await wrk.RunAsync(UrlOf(name, host), 2 * Context.Options.WrkSeconds);
            }

            for (var round = 0; round < Context.Options.Rounds; round++)
            {
                foreach (var (name, host, _, _) in Stats.Rotate(ThroughputScenario.CeilingModes, round))
                {
                    var value = (await wrk.RunAsync(UrlOf(name, host), Context.Options.WrkSeconds)).RequestsPerSecond;
                    Measured.Add("rps", Key(workers), name, value);
                    Context.Progress(round, $"wrk async chatty, {workers} worker(s) {name,-46} {value,9:F0} req/s");
                }
            }
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        if (Context.Wrk is null)
        {
            return;
        }

        report.Heading(3, "chatty, await between writes, under fixed thread-pool sizes");
        report.Paragraph($"The same scenario with the thread pool held at a fixed number of workers (`DOTNET_ThreadPool_ForceMinWorkerThreads` and `DOTNET_ThreadPool_ForceMaxWorkerThreads`, both processes alike), {Context.Options.Rounds} rounds each. By default the pool's hill climbing moves the worker count while it runs, and this scenario's rate follows it: bare Kestrel's 64 flushes per response each wake a send, and how those wake-ups fall on the workers decides its rate, while a response held to one flush barely depends on it. The ratio to bare therefore says as much about the pool as about the library; the ratio to the ceiling does not.");
        report.Table(">workers", ">bare Kestrel req/s", ">ceiling req/s", ">library defaults req/s", ">ceiling / bare", ">library defaults / bare", ">library defaults / ceiling");
        foreach (var workers in s_workerCounts)
        {
            report.Row($"{workers} | {ThroughputScenario.CeilingCells(Measured, Key(workers))}");
        }

        report.Row($"default (hill climbing, table above) | {ThroughputScenario.CeilingCells(Measured, ThroughputScenario.ChattyAsync)}");
        report.EndTable();
    }

    public override IEnumerable<Goal> Goals()
        => Context.Wrk is null ? [] : s_workerCounts.Select(workers => ThroughputScenario.CeilingGoal(Measured, $"{ThroughputScenario.ChattyAsync}, {workers} worker(s)", Key(workers)));

    private static string Key(int workers) => $"{ThroughputScenario.ChattyAsync}, {workers} worker(s)";
}
