using AspNetCore.TcpTuning.Testing;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>Choosing MaxFlushDelay: a slow producer that never flushes, so the delay timer alone decides when bytes leave.</summary>
internal sealed class FlushDelayScenario(BenchContext context) : BenchScenario(context)
{
    private const int Requests = 20;

    public override async Task RunRoundAsync(int round)
    {
        foreach (var (name, host, _) in Stats.Rotate(BenchEndpoints.FlushDelays, round))
        {
            var before = await Context.TunedServer.SendsAsync();
            using var client = await WriteWriteReadClient.ConnectAsync(Context.TunedServer.AddressOn(host));
            var firstBytes = new List<double>();
            var elapsed = new List<double>();
            for (var i = 0; i < Requests; i++)
            {
                var (_, firstByte, total) = await client.TimeGetAsync("/progress");
                firstBytes.Add(firstByte.TotalMilliseconds);
                elapsed.Add(total.TotalMilliseconds);
            }

            var after = await Context.TunedServer.SendsAsync();
            Measured.Add("first byte", "/progress", name, Stats.Median(firstBytes));
            Measured.Add("elapsed", "/progress", name, Stats.Median(elapsed));
            Measured.Add("sends", "/progress", name, before < 0 ? double.NaN : (after - before - 1) / (double)Requests);
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Choosing MaxFlushDelay: a slow producer");
        report.Paragraph($"A handler writes 32 pieces of 100 bytes with `await Task.Delay(1)` between them and never flushes (a report, a log tail): the delay timer alone decides when bytes leave. {Requests} sequential GETs per run on one connection, loopback. `Task.Delay(1)` waits for the runtime's coarse tick (the kernel's jiffy: 4 ms with HZ=250), so the pieces come that far apart, and a bound that releases held bytes 2 ms before `MaxFlushDelay` (the latency allowance) sends each piece alone at 5 ms.");
        report.Table("configuration", ">time to first byte ms", ">response time ms", ">sends per response");
        foreach (var (name, _, _) in BenchEndpoints.FlushDelays)
        {
            report.Row($"{name} | {Measured.Median("first byte", "/progress", name):F2} | {Measured.Median("elapsed", "/progress", name):F2} | {Measured.Median("sends", "/progress", name):F2}");
        }

        report.EndTable();
    }
}
