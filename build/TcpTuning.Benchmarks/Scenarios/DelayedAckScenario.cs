using AspNetCore.TcpTuning.Testing;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// The delayed-ACK stall: a Nagle client sends headers and body in two writes and waits, against each QuickAck mode;
/// the same client sending each request whole is the floor.
/// </summary>
internal sealed class DelayedAckScenario(BenchContext context) : BenchScenario(context)
{
    private const string Split = "split";
    private const string Floor = "floor";

    // The floor is ~0.05 ms a request: more requests cost little and steady its median.
    private const int FloorRequests = 2000;

    private static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] s_modes =
        BenchEndpoints.Loopback.Where(e => e.Name == BenchContext.Bare || e.ResponseFlush == "PerWrite").ToArray();

    public override async Task WarmUpAsync()
    {
        foreach (var (_, host, quickAck, _) in BenchEndpoints.Loopback)
        {
            await WriteWriteReadClient.MeasureAsync(Context.ServerOf(quickAck).AddressOn(host), "/echo", 50, singleSend: true);
        }
    }

    public override async Task RunRoundAsync(int round)
    {
        foreach (var (name, host, quickAck, _) in Stats.Rotate(s_modes, round))
        {
            var server = Context.ServerOf(quickAck);
            var address = server.AddressOn(host);
            await MeasureAsync(server, address, name, Split, singleSend: false, Context.Options.Requests);
            await MeasureAsync(server, address, name, Floor, singleSend: true, FloorRequests);
            Context.Progress(round, $"latency {name,-14} split p50 {Measured.Values("p50", Split, name)[^1],8:F3} ms  floor p50 {Measured.Values("p50", Floor, name)[^1],7:F3} ms");
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Delayed-ACK stall: Nagle client, headers and body in two sends");
        report.Paragraph($"One keep-alive connection, {Context.Options.Requests} sequential POSTs with a 50-byte body; the first request is left out (Linux quick-ACKs at connection start). QuickAck endpoints use `ResponseFlush: PerWrite` so only QuickAck differs.");
        report.Table("QuickAck", ">p50 ms", ">p99 ms", ">max ms", ">p50 / single-send floor", ">server segments per request", ">setsockopt per request");
        foreach (var (name, _, _, _) in s_modes)
        {
            report.Row($"{name} | {Median("p50", Split, name):F3} | {Median("p99", Split, name):F3} | {Median("max", Split, name):F3} | {Median("p50", Split, name) / Median("p50", Floor, name):F1}x | {Median("segments", Split, name):F2} | {Median("rearms", Split, name):F2}");
        }

        report.EndTable();
        report.Heading(3, "Single-send client (the floor): the request arrives whole");
        report.Paragraph($"The same client sending each request in one write: {FloorRequests} POSTs per run.");
        report.Table("QuickAck", ">p50 ms", ">p99 ms", ">max ms", ">server segments per request", ">setsockopt per request");
        foreach (var (name, _, _, _) in s_modes)
        {
            report.Row($"{name} | {Median("p50", Floor, name):F3} | {Median("p99", Floor, name):F3} | {Median("max", Floor, name):F3} | {Median("segments", Floor, name):F2} | {Median("rearms", Floor, name):F2}");
        }

        report.EndTable();
    }

    public override IEnumerable<Goal> Goals()
    {
        const string Area = "QuickAck";
        var p99 = Median("p99", Split, "Adaptive");
        var overFloor = Median("p50", Split, "Adaptive") / Median("p50", Floor, "Adaptive");
        var extraSegments = Median("segments", Floor, "Adaptive") - Median("segments", Floor, BenchContext.Bare);
        var rearms = Median("rearms", Floor, "Adaptive");
        yield return new Goal(Area, "Adaptive p99 <= 1 ms (write-write-read)", $"{p99:F3} ms", p99 <= 1.0);
        yield return new Goal(Area, "Adaptive p50 <= 2x the single-send floor", $"{overFloor:F2}x", overFloor <= 2);
        yield return new Goal(Area, "0 extra server segments per complete request (Adaptive vs bare, single send)", $"{extraSegments:+0.00;-0.00;0.00}", extraSegments < 0.05);
        yield return new Goal(Area, "0 setsockopt per complete request (Adaptive, single send)", $"{rearms:F2}", rearms == 0);
    }

    private double Median(string measure, string scenario, string name) => Measured.Median(measure, scenario, name);

    private async Task MeasureAsync(ServerProcess server, Uri address, string name, string scenario, bool singleSend, int requests)
    {
        await server.TakeConnectionsAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var latencies = await PostAsync(address, requests, singleSend, timeout.Token);
        var latency = LatencySummary.From(latencies);
        foreach (var each in latencies)
        {
            // Every request, for the latency chart.
            Measured.Add("latency", scenario, name, each.TotalMilliseconds);
        }

        var sample = (await server.TakeConnectionsAsync()).Single();
        var intervals = Math.Max(1, sample.Requests - 1);
        Measured.Add("p50", scenario, name, latency.P50.TotalMilliseconds);
        Measured.Add("p99", scenario, name, latency.P99.TotalMilliseconds);
        Measured.Add("max", scenario, name, latency.Max.TotalMilliseconds);
        Measured.Add("segments", scenario, name, (sample.LastSegmentsOut - sample.FirstSegmentsOut) / (double)intervals);
        Measured.Add("rearms", scenario, name, (sample.LastRearms - sample.FirstRearms) / (double)intervals);
    }

    // WriteWriteReadClient.MeasureAsync, keeping each request's latency: one connection, the first request left out.
    private static async Task<List<TimeSpan>> PostAsync(Uri address, int requests, bool singleSend, CancellationToken cancellationToken)
    {
        using var client = await WriteWriteReadClient.ConnectAsync(address, singleSend, cancellationToken: cancellationToken);
        var body = new byte[50];
        body.AsSpan().Fill((byte)'x');
        var latencies = new List<TimeSpan>(requests);
        for (var i = 0; i < requests; i++)
        {
            var (status, elapsed) = await client.PostAsync("/echo", body, cancellationToken);
            if (status != 200)
            {
                throw new HttpRequestException($"POST /echo answered {status}.");
            }

            if (i > 0)
            {
                latencies.Add(elapsed);
            }
        }

        return latencies;
    }

    /// <summary>Every write-write-read request's latency of a configuration, in milliseconds, over all rounds.</summary>
    public IReadOnlyList<double> SplitLatencies(string name) => Measured.Values("latency", Split, name);
}
