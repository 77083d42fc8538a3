using AspNetCore.TcpTuning.Testing;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Send syscalls and data segments per chatty response, sequential GETs on one connection: on loopback, and across
/// the veth pair with the server's TCP_INFO.
/// </summary>
internal sealed class SendsScenario(BenchContext context) : BenchScenario(context)
{
    private static readonly string[] s_paths = ["/chatty", "/chatty-async"];

    private static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] s_modes =
        ThroughputScenario.FlushModes.Where(m => m.Name != BenchContext.BareControl).ToArray();

    public override async Task RunRoundAsync(int round)
    {
        foreach (var path in s_paths)
        {
            foreach (var (name, host, quickAck, _) in Stats.Rotate(s_modes, round))
            {
                var server = Context.ServerOf(quickAck);
                var before = await server.SendsAsync();
                using (var client = await WriteWriteReadClient.ConnectAsync(server.AddressOn(host)))
                {
                    for (var i = 0; i < BenchOptions.SequentialRequests; i++)
                    {
                        await client.GetAsync(path);
                    }
                }

                var after = await server.SendsAsync();
                if (before >= 0)
                {
                    // The first /__sends answer is one send of the server's own.
                    Measured.Add("sends", path, name, (after - before - 1) / (double)BenchOptions.SequentialRequests);
                }
            }

            if (Context.Veth is not null)
            {
                foreach (var (name, port, flush, _) in Stats.Rotate(BenchEndpoints.Veth.Where(v => !v.Cork).ToArray(), round))
                {
                    var server = flush is null ? Context.BareServer : Context.TunedServer;
                    await server.TakeConnectionsAsync();
                    var before = await server.SendsAsync();
                    await VethNamespace.RunClientAsync($"http://{BenchEndpoints.VethHost}:{port}/ {path} {BenchOptions.SequentialRequests}");
                    var after = await server.SendsAsync();
                    var sample = (await server.TakeConnectionsAsync()).Single();
                    Measured.Add("veth segments", path, name, (sample.LastDataSegmentsOut - sample.FirstDataSegmentsOut) / (double)(sample.Requests - 1));
                    if (before >= 0)
                    {
                        Measured.Add("veth sends", path, name, (after - before - 1) / (double)(BenchOptions.SequentialRequests + BenchOptions.ClientWarmUp));
                    }
                }
            }
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Sends and segments per response");
        report.Paragraph($"{BenchOptions.SequentialRequests} sequential GETs on one keep-alive connection. Loopback: send syscalls. veth pair into a namespace (MTU 1500, MSS {BenchContext.VethSegmentPayload}): send syscalls and server data segments; 64 x 100 B is 6.4 KB of body, {Math.Ceiling(6400.0 / BenchContext.VethSegmentPayload):F0} segments at least.");
        report.Table("response", "configuration", ">sends (loopback)", ">sends (veth)", ">data segments (veth)");
        foreach (var path in s_paths)
        {
            foreach (var (name, _, _, _) in s_modes)
            {
                report.Row($"{(path == "/chatty" ? "back to back" : "await between writes")} | {name} | {Measured.Cell("sends", path, name)} | {Measured.Cell("veth sends", path, name)} | {Measured.Cell("veth segments", path, name)}");
            }
        }

        report.EndTable();
        if (Context.Veth is null)
        {
            report.Paragraph($"The veth columns are empty: {Context.VethUnavailable}");
        }

        if (Context.Options.SendCounter is null)
        {
            report.Paragraph($"The send columns are empty: run through `build/bench.sh`, which builds the LD_PRELOAD counter.");
        }
    }

    public override IEnumerable<Goal> Goals()
    {
        if (Measured.Has("veth segments", "/chatty-async", BenchContext.Defaults))
        {
            var perResponse = Measured.Median("veth segments", "/chatty-async", BenchContext.Defaults);
            yield return new Goal("flush policy", "async chatty: 5.00 data segments per response (veth)", $"{perResponse:F2}", Math.Abs(perResponse - 5) < 0.01);
        }

        if (Measured.Has("veth sends", "/chatty-async", BenchContext.Defaults))
        {
            var perResponse = Measured.Median("veth sends", "/chatty-async", BenchContext.Defaults);
            yield return new Goal("flush policy", "async chatty: 1.00 send per response (veth)", $"{perResponse:F2}", Math.Abs(perResponse - 1) < 0.01);
        }
    }
}
