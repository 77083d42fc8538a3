using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Cork under load: 1,000 connections on a mix of small, chatty and large responses, and the time to a prompt the app
/// writes before it reads the request body; bare Kestrel and the library defaults beside the two Cork endpoints.
/// </summary>
internal sealed class CorkLoadScenario(BenchContext context) : BenchScenario(context)
{
    private const int Connections = 1000;
    private const int Seconds = 10;
    private const int PromptExchanges = 200;
    private const string Prompt = "prompt";

    // The mixes, as mixed.lua's argument: the chatty response awaits between writes, or writes back to back.
    private static readonly (string Mix, string? Argument)[] s_mixes = [("with awaits", null), ("steady", "steady")];

    private readonly (string Name, ServerProcess Server, string Host)[] _modes =
    [
        (BenchContext.Bare, context.BareServer, BenchEndpoints.Loopback.Single(e => e.Name == BenchContext.Bare).Host),
        (BenchContext.Defaults, context.TunedServer, BenchEndpoints.Loopback.Single(e => e.Name == BenchContext.Defaults).Host),
        .. BenchEndpoints.LoopbackCork.Select(c => (c.Name, context.TunedServer, c.Host)),
    ];

    private IEnumerable<string> CorkModes => _modes.Select(m => m.Name).Where(n => n.StartsWith("Cork", StringComparison.Ordinal));

    public override async Task RunAloneAsync()
    {
        if (Context.Wrk is not { } wrk)
        {
            return;
        }

        for (var round = 0; round < Context.Options.Rounds; round++)
        {
            foreach (var (mix, argument) in s_mixes)
            {
                foreach (var (name, server, host) in Stats.Rotate(_modes, round))
                {
                    var before = await server.StatsAsync();
                    var result = await wrk.RunAsync(new Uri(server.AddressOn(host), "/"), Seconds, Connections, script: Path.Combine(AppContext.BaseDirectory, "mixed.lua"), scriptArguments: argument);
                    var after = await server.StatsAsync();
                    Measured.Add("rps", mix, name, result.RequestsPerSecond);
                    Measured.Add("p99", mix, name, result.P99Ms);
                    Measured.Add("gen0", mix, name, after.Gen0 - before.Gen0);
                    Measured.Add("gen1", mix, name, after.Gen1 - before.Gen1);
                    Measured.Add("responses", mix, name, result.Requests);
                    Measured.Add("allocated", mix, name, (after.AllocatedBytes - before.AllocatedBytes) / (double)result.Requests);
                    Measured.Add("bound", mix, name, 1000.0 * (after.BoundReleases - before.BoundReleases) / result.Requests);
                    Measured.Add("abort", mix, name, after.AbortReleases - before.AbortReleases);
                    Context.Progress(round, $"wrk {mix} c{Connections} {name,-46} {result.RequestsPerSecond,9:F0} req/s p99 {result.P99Ms,7:F1} ms");
                }
            }

            foreach (var (name, server, host) in Stats.Rotate(_modes, round))
            {
                var latencies = await PromptClient.MeasureAsync(server.AddressOn(host), PromptExchanges);
                Measured.Add("p50", Prompt, name, Stats.Percentile(latencies, 0.5));
                Measured.Add("p99", Prompt, name, Stats.Percentile(latencies, 0.99));
                Context.Progress(round, $"prompt {name,-46} p50 {Stats.Percentile(latencies, 0.5),7:F3} ms");
            }
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        if (Context.Wrk is null)
        {
            return;
        }

        report.Heading(2, $"Cork under load: {Connections:N0} connections, a mixed request mix");
        report.Paragraph($"wrk, {Connections} connections for {Seconds} s on loopback, each connection in turn: plaintext, chatty (64 x 100 B) and 100 KiB in 1 KiB writes, 6:3:1. In the mix *with awaits* the chatty response awaits between its writes (`build/TcpTuning.Benchmarks/mixed.lua`); in the *steady* mix it writes them back to back (`mixed.lua steady`). Garbage collections and bytes allocated are the server process's over the run; the tuned process serves more requests in the same 10 s, so its collections are compared per million responses, pooled over the rounds (a run sees one or two). *At the bound*: held bytes the cork sent at its hold bound (`MaxFlushDelay` - 2 ms) before their message ended, per 1,000 responses: a response written in pieces more slowly than the bound has its bytes leave at the bound, by design, and at 1,000 connections on two cores any response written in pieces can be (the chatty and the 100 KiB ones, in both mixes). *At an abort*: held bytes of a message that never ended, sent as its connection was aborted (wrk cutting responses off at the run's end), in all.");
        report.Table("mix", "configuration", ">req/s", ">/ bare", ">p99 ms", ">bytes allocated per response", ">gen0", ">gen1", ">gen1 per million responses", ">releases at the bound per 1,000 responses", ">releases at an abort");
        foreach (var (mix, _) in s_mixes)
        {
            foreach (var (name, _, _) in _modes)
            {
                report.Row($"{mix} | {name} | {Median("rps", mix, name):F0} | {RateRatio(mix, name):F2} | {Median("p99", mix, name):F1} | {Median("allocated", mix, name):F0} | {Median("gen0", mix, name):F0} | {Median("gen1", mix, name):F0} | {Gen1PerMillion(mix, name):F1} | {Median("bound", mix, name):F1} | {Median("abort", mix, name):F0}");
            }
        }

        report.EndTable();
        report.Heading(3, "A prompt before a request-body read");
        report.Paragraph($"The handler writes a prompt, then reads the request body, which the client sends only once it has seen the prompt; {PromptExchanges} exchanges on one keep-alive connection per round, the time from the request to the prompt.");
        report.Table("configuration", ">p50 ms", ">p99 ms");
        foreach (var (name, _, _) in _modes)
        {
            report.Row($"{name} | {Median("p50", Prompt, name):F3} | {Median("p99", Prompt, name):F3}");
        }

        report.EndTable();
    }

    public override IEnumerable<Goal> Goals()
    {
        if (Context.Wrk is null)
        {
            yield break;
        }

        const string Area = "Cork";
        foreach (var (mix, _) in s_mixes)
        {
            foreach (var name in CorkModes)
            {
                var ratio = RateRatio(mix, name);
                yield return new Goal(Area, $"{name}, {mix} mix, {Connections:N0} connections: req/s >= 0.95x bare", $"{ratio:F2}x", ratio >= 0.95);
                var gen1 = Gen1PerMillion(mix, name);
                var bareGen1 = Gen1PerMillion(mix, BenchContext.Bare);
                yield return new Goal(Area, $"{name}, {mix} mix: gen1 collections per million responses <= bare's", $"{gen1:F1}: {Gen1Count(mix, name)} (bare {bareGen1:F1}: {Gen1Count(mix, BenchContext.Bare)})", gen1 <= bareGen1);
                yield return new Goal(Area, $"{name}, {mix} mix: releases at an abort only where wrk cut responses off at the run's end (<= 1 per connection)", $"{Median("abort", mix, name):F0}", Median("abort", mix, name) <= Connections);
            }
        }

        var barePrompt = Median("p50", Prompt, BenchContext.Bare);
        foreach (var name in CorkModes)
        {
            var p50 = Median("p50", Prompt, name);
            yield return new Goal(Area, $"{name}: a prompt before a body read, p50 <= bare + 1 ms", $"{p50:F3} ms (bare {barePrompt:F3})", p50 <= barePrompt + 1);
        }
    }

    private double Median(string measure, string scenario, string name) => Measured.Median(measure, scenario, name);

    private double RateRatio(string mix, string name) => Median("rps", mix, name) / Median("rps", mix, BenchContext.Bare);

    // Collections per million responses, pooled over the rounds: a run sees one or two gen1 collections, so a median of
    // each run's rate compares 1 against 2, and the verdict flipped from run to run on that step alone.
    private double Gen1PerMillion(string mix, string name)
    {
        var (collections, responses) = Gen1Totals(mix, name);
        return 1e6 * collections / responses;
    }

    private string Gen1Count(string mix, string name)
    {
        var (collections, responses) = Gen1Totals(mix, name);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{collections:F0} in {responses / 1e6:F2} M responses");
    }

    private (double Collections, double Responses) Gen1Totals(string mix, string name)
        => (Measured.Values("gen1", mix, name).Sum(), Measured.Values("responses", mix, name).Sum());
}
