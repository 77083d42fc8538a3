using System.Globalization;
using System.Text;
using TcpTuning.Reliability;

// The reliability suite: every tuned configuration against bare Kestrel, in one process run.
//   dotnet run --project build/TcpTuning.Reliability -c Release -- [--cases N] [--seed S] [--probes N]
//       [--slow-readers N] [--slow-seconds S] [--h2-rounds N] [--examples N] [--out FILE]
internal static class ReliabilityProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["serve-h2", var configuration])
        {
            return await ColdHttp2Run.ServeAsync(configuration);
        }

        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("""
                Options:
                  --cases N          random response scripts, each on bare (twice) and every configuration (default 300)
                  --seed S           first seed (default 1)
                  --probes N         hold probes per configuration and protocol (default 20)
                  --slow-readers N   slow readers per configuration and protocol (default 0: skipped)
                  --slow-seconds S   how long each slow reader reads (default 25)
                  --h2-rounds N      cold and warm h2load rounds per configuration (default 0: skipped; needs h2load)
                  --examples N       differences shown in the report (default 10)
                  --out FILE         write the markdown report there (default: print it)
                """);
            return 0;
        }

        var options = Options.Parse(args);
        var started = DateTime.UtcNow;
        await using var server = await ReliabilityServer.StartAsync();
        Console.Error.WriteLine($"differential: {options.Cases} scripts from seed {options.Seed}");
        var differential = await DifferentialRun.RunAsync(server, options.Seed, options.Cases, parallelism: 8, CancellationToken.None);
        Console.Error.WriteLine($"hold probes: {options.Probes}");
        var holds = await HoldRun.RunAsync(server, options.Probes, CancellationToken.None);
        List<SlowReaderResult> slow = [];
        if (options.SlowReaders > 0)
        {
            Console.Error.WriteLine($"slow readers: {options.SlowReaders} for {options.SlowSeconds} s");
            slow = await SlowReaderRun.RunAsync(server, options.SlowReaders, TimeSpan.FromSeconds(options.SlowSeconds));
        }

        List<Http2LoadResult> h2 = [];
        if (options.Http2Rounds > 0 && ColdHttp2Run.Available)
        {
            Console.Error.WriteLine($"cold HTTP/2: {options.Http2Rounds} rounds");
            h2 = await ColdHttp2Run.RunAsync(options.Http2Rounds);
        }

        var report = Report.Write(options, args, differential, holds, slow, h2, DateTime.UtcNow - started);
        if (options.Out is null)
        {
            Console.WriteLine(report);
        }
        else
        {
            await File.WriteAllTextAsync(options.Out, report);
            Console.Error.WriteLine($"wrote {options.Out}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{differential.Total - differential.TotalDifferences} passed, {differential.TotalDifferences} failed"));
        return differential.TotalDifferences == 0 ? 0 : 1;
    }
}

internal sealed record Options(int Cases, int Seed, int Probes, int SlowReaders, int SlowSeconds, int Http2Rounds, int Examples, string? Out)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Options(Int("--cases", 300), Int("--seed", 1), Int("--probes", 20), Int("--slow-readers", 0), Int("--slow-seconds", 25), Int("--h2-rounds", 0), Int("--examples", 10), Value("--out"));
    }
}

internal static class Report
{
    public static string Write(Options options, string[] args, DifferentialResult differential, List<HoldResult> holds, List<SlowReaderResult> slow, List<Http2LoadResult> h2, TimeSpan took)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine("# Reliability");
        text.AppendLine();
        text.AppendLine("Every tuned configuration against bare Kestrel, in one process run. Regenerate with:");
        text.AppendLine();
        text.AppendLine("```bash");
        var command = "dotnet run --project build/TcpTuning.Reliability -c Release -- " + string.Join(' ', args.Where(a => a != options.Out)).Replace("--out", "--out docs/reliability.md", StringComparison.Ordinal);
        text.AppendLine(command.TrimEnd());
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(c, $"Run on {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, in {took.TotalMinutes:F1} min.");
        text.AppendLine();
        text.AppendLine("## Random response scripts");
        text.AppendLine();
        text.AppendLine("Each seed is a handler: writes of random sizes through `Body`, `BodyWriter`, `Response.WriteAsync`, `GetMemory`/`Advance` (flushed or not) and `SendFileAsync`; explicit flushes, yields and delays; Content-Length right, short, long or none; status 200, 204, 304 or 404; GET, HEAD or POST with a body read between writes; ending by returning, throwing, aborting or `CompleteAsync`. Bare Kestrel serves it twice (seeds where it differs from itself are left out), then each configuration; the client compares status, headers (less `Date`), framing kind, decoded body, completeness, how the connection ended and, when it stayed open, the next response on it. Where chunks are cut is not compared: that is what the policy changes.");
        text.AppendLine();
        text.AppendLine("| configuration | protocol | scripts | differences from bare |");
        text.AppendLine("|---|---|---:|---:|");
        foreach (var ((configuration, protocol), count) in differential.Cases.OrderBy(k => k.Key.Configuration).ThenBy(k => k.Key.Protocol))
        {
            text.AppendLine(c, $"| {configuration} | {protocol} | {count} | {differential.Differences.GetValueOrDefault((configuration, protocol))} |");
        }

        text.AppendLine();
        if (!differential.BareHangsTunedCompletes.IsEmpty)
        {
            text.AppendLine();
            text.AppendLine(c, $"Not counted as differences: scripts whose Content-Length body ends in bytes advanced and never flushed, which bare Kestrel leaves unsent (the client waits for them) and the policy sends at the message's end: {string.Join(", ", differential.BareHangsTunedCompletes.OrderBy(k => k.Key).Select(k => $"{k.Key.Configuration} {k.Key.Protocol} {k.Value}"))}.");
        }

        if (!differential.CutElsewhere.IsEmpty)
        {
            var shortfalls = differential.CutShortfalls.ToList();
            text.AppendLine();
            text.AppendLine(c, $"Counted apart, not as differences: responses cut short (the handler threw, aborted or wrote past its Content-Length) where, on both servers, the client got the same status, headers, framing and connection end and a body that is a prefix of what the handler wrote, cut at another byte: {string.Join(", ", differential.CutElsewhere.OrderBy(k => k.Key).Select(k => $"{k.Key.Configuration} {k.Key.Protocol} {k.Value}"))}. The tuned body was shorter in {shortfalls.Count(s => s < 0)} of them (by {(shortfalls.Any(s => s < 0) ? shortfalls.Where(s => s < 0).Select(s => -s).Max() : 0)} bytes at most) and longer in {shortfalls.Count(s => s > 0)}. Where Kestrel cuts a failing response moves with how far its send loop got and with the sizes of the spans the app filled; bare Kestrel's own repeated runs differ this way too (the seeds left out below).");
        }

        text.AppendLine();
        text.AppendLine(c, $"Seeds left out because bare Kestrel differed from itself: {string.Join(", ", differential.BareSelfDifferences.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}{(differential.BareSelfDifferences.IsEmpty ? "none" : "")}.");
        if (!differential.Examples.IsEmpty)
        {
            text.AppendLine();
            text.AppendLine("Differences by the script's Content-Length and ending (all configurations and protocols):");
            text.AppendLine();
            text.AppendLine("| Content-Length | ending | differences |");
            text.AppendLine("|---|---|---:|");
            foreach (var group in differential.Examples.GroupBy(e => (e.Script.LengthMode, e.Script.Ending)).OrderByDescending(g => g.Count()))
            {
                text.AppendLine(c, $"| {group.Key.LengthMode} | {group.Key.Ending} | {group.Count()} |");
            }

            if (differential.Examples.Any(e => e.Script.Ending == "abort"))
            {
                text.AppendLine();
                var aborts = differential.Examples.Where(e => e.Script.Ending == "abort").ToList();
                var tunedLost = aborts.Count(e => e.Tuned.StartsWith("then ", StringComparison.Ordinal));
                text.AppendLine(c, $"For an aborted response only the status line and headers are compared: a difference there means the reset reached the client before the headers on one side and after them on the other. Of these {aborts.Count}, the tuned client lost the headers in {tunedLost} ({string.Join(", ", aborts.Where(e => e.Tuned.StartsWith("then ", StringComparison.Ordinal)).GroupBy(e => e.Configuration).Select(g => $"{g.Key} {g.Count()}"))}) and bare's in {aborts.Count - tunedLost}.");
            }

            text.AppendLine();
        }

        foreach (var example in differential.Examples.OrderBy(e => e.Script.Seed).Take(options.Examples))
        {
            text.AppendLine();
            text.AppendLine(c, $"- {example.Configuration} {example.Protocol}, {example.Script}");
            text.AppendLine(c, $"  - bare: `{Clip(example.Bare)}`");
            text.AppendLine(c, $"  - tuned: `{Clip(example.Tuned)}`");
        }

        text.AppendLine();
        text.AppendLine("## Hold time");
        text.AppendLine();
        text.AppendLine(c, $"Probes write 1 to 4 times (random sizes and APIs), each write followed by an await of 15-50 ms; the time from each write call to its first byte's arrival at the client (one clock, one process), after one uncounted probe per endpoint. Goal: p99 at most `MaxFlushDelay` ({HoldRun.MaxFlushDelayMs} ms) + {HoldRun.GoalAllowanceMs} ms for every configuration, the cork included. Bare Kestrel and `PerWrite` hold nothing: their rows are what the measurement itself adds (scheduling on the shared cores), in the p99 and in the writes that took longer than `MaxFlushDelay`.");
        text.AppendLine();
        text.AppendLine(c, $"| configuration | protocol | writes | p50 ms | p99 ms | max ms | slowest | writes over {HoldRun.MaxFlushDelayMs} ms | p99 within goal |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---|---:|---|");
        foreach (var hold in holds)
        {
            text.AppendLine(c, $"| {hold.Configuration} | {hold.Protocol} | {hold.Writes} | {hold.P50Ms:F2} | {hold.P99Ms:F2} | {hold.MaxMs:F2} | {hold.WorstProbe} | {hold.OverMaxFlushDelay} | {(hold.P99Ms <= HoldRun.GoalMs ? "yes" : "**no**")} |");
        }

        if (slow.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Slow readers");
            text.AppendLine();
            text.AppendLine(c, $"Readers with a 4 KiB receive buffer read an 8 MiB Content-Length response (16 KiB writes) at 1 KiB/s, four times Kestrel's default minimum response data rate, for {options.SlowSeconds} s. Goal: every configuration keeps as many as bare.");
            text.AppendLine();
            text.AppendLine("| configuration | protocol | readers | kept | KiB read |");
            text.AppendLine("|---|---|---:|---:|---:|");
            foreach (var s in slow)
            {
                text.AppendLine(c, $"| {s.Configuration} | {s.Protocol} | {s.Readers} | {s.Kept} | {s.BytesRead / 1024} |");
            }
        }

        if (h2.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## HTTP/2 on a cold process");
            text.AppendLine();
            text.AppendLine("`h2load -n 4000 -c 20 -m 32` against 64 x 100 B writes with a yield between them: a fresh server process per configuration and round (cold), then a second run in the same process (warm). Goal: `MessageBoundary` at least 0.9x `PerWrite`'s rate, 0 errors.");
            text.AppendLine();
            text.AppendLine("| configuration | phase | req/s (median) | runs | failed + errored (all runs) | slowest request ms (max) |");
            text.AppendLine("|---|---|---:|---:|---:|---:|");
            foreach (var group in h2.GroupBy(r => (r.Configuration, r.Phase)))
            {
                var rates = group.Select(r => r.RequestsPerSecond).Order().ToList();
                text.AppendLine(c, $"| {group.Key.Configuration} | {group.Key.Phase} | {rates[rates.Count / 2]:F0} | {rates.Count} | {group.Sum(r => r.Failed + r.Errored)} | {group.Max(r => r.MaxRequestMs):F0} |");
            }
        }

        return text.ToString();
    }

    // One line per outcome; a stray next response can be many kilobytes of body.
    private static string Clip(string outcome)
    {
        var line = outcome.Replace("\n", " / ", StringComparison.Ordinal);
        return line.Length <= 400 ? line : string.Concat(line.AsSpan(0, 400), "…");
    }
}
