using System.Diagnostics;
using System.Globalization;
using System.Text;
using AspNetCore.TcpTuning.Testing;
using TcpTuning.Benchmarks;

// Side-by-side benchmark of bare Kestrel and each QuickAck mode, in one process run, alternating rounds.
// Usage: TcpTuning.Benchmarks [--out FILE] [--rounds N] [--requests N] [--wrk-seconds N]
var options = BenchOptions.Parse(args);

// The floor is ~0.05 ms a request: many more requests cost little and steady its median.
const int FloorRequests = 2000;
var inv = CultureInfo.InvariantCulture;

var modes = new (string Name, string Host, bool Tuned)[]
{
    ("bare Kestrel", "127.0.0.10", false),
    ("Default", "127.0.0.11", true),
    ("OnAccept", "127.0.0.12", true),
    ("AfterEachRead", "127.0.0.13", true),
    ("Adaptive", "127.0.0.14", true),
};

await using var bare = await BenchServer.StartAsync(new Dictionary<string, string?> { ["Kestrel:Endpoints:Bare:Url"] = "http://127.0.0.10:0" }, tune: false);
var tunedSettings = new Dictionary<string, string?>();
foreach (var (name, host, tuned) in modes.Where(m => m.Tuned))
{
    tunedSettings[$"Kestrel:Endpoints:{name}:Url"] = $"http://{host}:0";
    tunedSettings[$"TcpTuning:Endpoints:{name}:QuickAck"] = name;
}

await using var tunedServer = await BenchServer.StartAsync(tunedSettings, tune: true);
BenchServer ServerOf(bool tuned) => tuned ? tunedServer : bare;

var split = modes.ToDictionary(m => m.Name, _ => new List<RunResult>());
var floor = modes.ToDictionary(m => m.Name, _ => new List<RunResult>());
var rps = modes.ToDictionary(m => m.Name, _ => new List<double>());
var wrk = Wrk.Find();

// Warm-up: JIT and connection paths of every mode, not measured.
foreach (var (_, host, tuned) in modes)
{
    var address = ServerOf(tuned).AddressOn(host);
    await WriteWriteReadClient.MeasureAsync(address, "/echo", 50, singleSend: true);
    if (wrk is not null)
    {
        await wrk.RunAsync(new Uri(address, "/plaintext"), 1);
    }
}

for (var round = 0; round < options.Rounds; round++)
{
    // Rotate the order each round so no mode always runs first or last.
    var order = modes.Skip(round % modes.Length).Concat(modes.Take(round % modes.Length)).ToArray();
    foreach (var (name, host, tuned) in order)
    {
        var server = ServerOf(tuned);
        var address = server.AddressOn(host);
        split[name].Add(await RunAsync(server, address, singleSend: false));
        floor[name].Add(await RunAsync(server, address, singleSend: true, FloorRequests));
        if (wrk is not null)
        {
            rps[name].Add(await wrk.RunAsync(new Uri(address, "/plaintext"), options.WrkSeconds));
        }

        Console.WriteLine($"round {round + 1}/{options.Rounds} {name,-14} split p50 {split[name][^1].Latency.P50.TotalMilliseconds,8:F3} ms  floor p50 {floor[name][^1].Latency.P50.TotalMilliseconds,7:F3} ms  rps {(rps[name].Count > 0 ? rps[name][^1] : 0),9:F0}");
    }
}

var report = new StringBuilder();
report.AppendLine("# Benchmarks").AppendLine();
report.AppendLine(inv, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `build/bench.sh` (`dotnet build/TcpTuning.Benchmarks/bin/Release/net10.0/TcpTuning.Benchmarks.dll {string.Join(' ', args)}`).");
report.AppendLine();
report.AppendLine(inv, $"Machine: {Machine.Describe()}");
report.AppendLine();
report.AppendLine(inv, $"Every figure is the median over {options.Rounds} rounds; in each round every mode runs once, in an order rotated per round. Bare Kestrel (no `UseTcpTuning`) and the tuned app (one named endpoint per `QuickAck` mode, each on its own 127.0.0.x address) run side by side in one process on loopback. Server segments come from TCP_INFO (`tcpi_segs_out`) on the server's socket, read by the handler at each request; setsockopt calls are the library's own re-arm counter.");
report.AppendLine();

report.AppendLine("## Write-write-read: Nagle client, headers and body in two sends").AppendLine();
report.AppendLine(inv, $"One keep-alive connection, {options.Requests} sequential POSTs with a 50-byte body; the first request is left out (Linux quick-ACKs at connection start).");
report.AppendLine();
report.AppendLine("| mode | p50 ms | p99 ms | max ms | p50 / single-send floor | server segments per request | setsockopt per request |");
report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (var (name, _, _) in modes)
{
    var s = Summarise(split[name]);
    var f = Summarise(floor[name]);
    report.AppendLine(inv, $"| {name} | {s.P50:F3} | {s.P99:F3} | {s.Max:F3} | {s.P50 / f.P50:F1}x | {s.Segments:F2} | {s.Rearms:F2} |");
}

report.AppendLine().AppendLine("## Single-send client (the floor): the request arrives whole").AppendLine();
report.AppendLine(inv, $"The same client sending each request in one write: {FloorRequests} POSTs per run.");
report.AppendLine();
report.AppendLine("| mode | p50 ms | p99 ms | max ms | server segments per request | setsockopt per request |");
report.AppendLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, _, _) in modes)
{
    var f = Summarise(floor[name]);
    report.AppendLine(inv, $"| {name} | {f.P50:F3} | {f.P99:F3} | {f.Max:F3} | {f.Segments:F2} | {f.Rearms:F2} |");
}

report.AppendLine().AppendLine("## Plaintext throughput (wrk)").AppendLine();
if (wrk is null)
{
    report.AppendLine("wrk was not found; install it (`apt-get install -y wrk`) or run `build/bench.sh`, which does.");
}
else
{
    report.AppendLine(inv, $"`wrk -t1 -c32 -d{options.WrkSeconds}s` GET /plaintext, per mode and round. The machine has 2 cores shared by wrk and the server: differences under 5-10% are noise.");
    report.AppendLine();
    report.AppendLine("| mode | requests/s | ratio to bare |");
    report.AppendLine("|---|---:|---:|");
    var bareRps = Median(rps[modes[0].Name]);
    foreach (var (name, _, _) in modes)
    {
        var value = Median(rps[name]);
        report.AppendLine(inv, $"| {name} | {value:F0} | {value / bareRps:F2} |");
    }
}

var adaptive = Summarise(split["Adaptive"]);
var adaptiveFloor = Summarise(floor["Adaptive"]);
var bareFloor = Summarise(floor[modes[0].Name]);
report.AppendLine().AppendLine("## Goals (issue #3)").AppendLine();
report.AppendLine("| goal | measured | met |");
report.AppendLine("|---|---|---|");
Goal("Adaptive p99 <= 1 ms (write-write-read)", $"{adaptive.P99:F3} ms", adaptive.P99 <= 1.0);
Goal("Adaptive p50 <= 2x the single-send floor", $"{adaptive.P50 / adaptiveFloor.P50:F2}x", adaptive.P50 <= 2 * adaptiveFloor.P50);
Goal("0 extra server segments per complete request (Adaptive vs bare, single send)", $"{adaptiveFloor.Segments - bareFloor.Segments:+0.00;-0.00;0.00}", adaptiveFloor.Segments - bareFloor.Segments < 0.05);
Goal("0 setsockopt per complete request (Adaptive, single send)", $"{adaptiveFloor.Rearms:F2}", adaptiveFloor.Rearms == 0);
if (wrk is not null)
{
    var ratio = Median(rps["Adaptive"]) / Median(rps[modes[0].Name]);
    Goal("Adaptive plaintext RPS >= 0.98 of bare", $"{ratio:F2}", ratio >= 0.98);
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
await File.WriteAllTextAsync(options.Output, report.ToString());
Console.WriteLine($"wrote {options.Output}");
return 0;

void Goal(string goal, string measured, bool met) => report.AppendLine(inv, $"| {goal} | {measured} | {(met ? "yes" : "**no**")} |");

async Task<RunResult> RunAsync(BenchServer server, Uri address, bool singleSend, int? requests = null)
{
    server.Connections.Clear();
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
    var latency = await WriteWriteReadClient.MeasureAsync(address, "/echo", requests ?? options.Requests, singleSend: singleSend, cancellationToken: timeout.Token);
    var sample = server.Connections.Values.Single();
    var intervals = Math.Max(1, sample.Requests - 1);
    return new RunResult(latency, (sample.LastSegmentsOut - sample.FirstSegmentsOut) / (double)intervals, (sample.LastRearms - sample.FirstRearms) / (double)intervals);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static Summary Summarise(List<RunResult> runs) => new(
    Median(runs.Select(r => r.Latency.P50.TotalMilliseconds)),
    Median(runs.Select(r => r.Latency.P99.TotalMilliseconds)),
    Median(runs.Select(r => r.Latency.Max.TotalMilliseconds)),
    Median(runs.Select(r => r.SegmentsPerRequest)),
    Median(runs.Select(r => r.RearmsPerRequest)));

internal sealed record RunResult(LatencySummary Latency, double SegmentsPerRequest, double RearmsPerRequest);

internal sealed record Summary(double P50, double P99, double Max, double Segments, double Rearms);
