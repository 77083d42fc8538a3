using System.Globalization;
using TcpTuning.Benchmarks.Reporting;
using TcpTuning.Benchmarks.Wan;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Bare Kestrel and the library across an emulated wide-area path (<see cref="WanLink"/>: a user-space relay between two
/// TUN devices that delays every packet and drops a seeded fraction), at each of <see cref="Profiles"/>: the Nagle
/// write-write-read client's latency, and the time to the last byte, segments and retransmissions of a chatty response
/// and a 1 MiB one, per request, from one keep-alive connection per run.
/// </summary>
internal sealed class WanScenario(BenchContext context) : BenchScenario(context)
{
    public const string Post = "write-write-read POST";

    /// <summary>The wide-area paths: name, round trip, loss in each direction.</summary>
    public static readonly (string Name, TimeSpan RoundTrip, double Loss)[] Profiles =
    [
        ("RTT 40 ms, 0.5% loss", TimeSpan.FromMilliseconds(40), 0.005),
        ("RTT 100 ms", TimeSpan.FromMilliseconds(100), 0),
    ];

    private static readonly string[] s_paths = ["/chatty-async", "/mib1"];

    // The A/A control, a second bare endpoint, shows how far loss alone moves a percentile between two identical servers.
    private readonly (string Name, int Port, bool Tuned)[] _configurations =
    [
        (BenchContext.Bare, BenchEndpoints.Veth[0].Port, false),
        (BenchContext.Defaults, BenchEndpoints.Veth[2].Port, true),
        ("Cork + MessageBoundary", BenchEndpoints.Veth[4].Port, true),
        (BenchContext.BareControl, BenchEndpoints.VethControlPort, false),
    ];

    /// <summary>
    /// Requests per run: POSTs, chatty GETs, 1 MiB GETs; two runs per configuration and path, in alternating order. With
    /// loss the 99th percentile lies among the requests that lost a packet, so those paths run enough GETs for it to be
    /// one of dozens of such requests rather than the second-worst of 200 (or the worst of 40).
    /// </summary>
    private (int Post, int Chatty, int Large) Requests(double loss) => Context.Options.Quick ? (20, 20, 6) : loss > 0 ? (60, 600, 150) : (60, 100, 20);

    public override async Task RunAloneAsync()
    {
        if (Context.Wan is not { } wan)
        {
            return;
        }

        var profiles = Context.Options.Quick ? Profiles[..1] : Profiles;
        for (var p = 0; p < profiles.Length; p++)
        {
            var (profile, roundTrip, loss) = profiles[p];
            for (var pass = 0; pass < 2; pass++)
            {
                foreach (var (name, port, tuned) in Stats.Rotate(_configurations, pass))
                {
                    var url = $"http://{BenchEndpoints.VethHost}:{port}/";
                    var server = tuned ? Context.TunedServer : Context.BareServer;

                    // Each configuration meets the same drop decisions, packet by packet.
                    wan.Relay.Configure(roundTrip, loss, seed: 17 + pass);
                    await MeasureAsync(server, profile, Post, name, roundTrip, $"post {url} {Requests(loss).Post}");
                    foreach (var path in s_paths)
                    {
                        wan.Relay.Configure(roundTrip, loss, seed: 17 + pass);
                        await MeasureAsync(server, profile, path, name, roundTrip, $"get {url} {path} {(path == "/mib1" ? Requests(loss).Large : Requests(loss).Chatty)}");
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wan {profile} pass {pass + 1}/2 {name}: write-write-read p50 {Stats.Percentile(Measured.Values("latency", Key(profile, Post), name), 0.5):F1} ms"));
                }
            }
        }
    }

    private async Task MeasureAsync(ServerProcess server, string profile, string what, string name, TimeSpan roundTrip, string arguments)
    {
        await server.TakeConnectionsAsync();
        var output = await WanLink.RunClientAsync(arguments, TimeSpan.FromMinutes(4) + roundTrip * 2000);
        foreach (var latency in output.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            Measured.Add("latency", Key(profile, what), name, double.Parse(latency, CultureInfo.InvariantCulture));
        }

        // The server's own TCP_INFO at each request's start: what left for each response between the first and the last.
        var sample = (await server.TakeConnectionsAsync()).Single();
        var intervals = Math.Max(1, sample.Requests - 1);
        Measured.Add("segments", Key(profile, what), name, (sample.LastDataSegmentsOut - sample.FirstDataSegmentsOut) / (double)intervals);
        Measured.Add("retransmits", Key(profile, what), name, (sample.LastRetransmits - sample.FirstRetransmits) / (double)intervals);
    }

    /// <summary>Every request's latency of a configuration at a profile, in milliseconds (the charts read them).</summary>
    public IReadOnlyList<double> Latencies(string profile, string what, string name) => Measured.Values("latency", Key(profile, what), name);

    public IEnumerable<string> ConfigurationNames => _configurations.Select(c => c.Name);

    private static string Key(string profile, string what) => $"wan {profile} {what}";

    private double P(string profile, string what, string name, double fraction)
    {
        var values = Measured.Values("latency", Key(profile, what), name);
        return values.Count == 0 ? double.NaN : Stats.Percentile(values, fraction);
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "A wide-area path: delay and loss");
        if (Context.Wan is null)
        {
            report.Paragraph($"Not measured: {Context.WanUnavailable}");
            return;
        }

        var (posts, chatty, large) = Requests(0);
        var (_, lossyChatty, lossyLarge) = Requests(Profiles.Max(p => p.Loss));
        var lossy = lossyChatty == chatty ? "" : $" ({lossyChatty} and {lossyLarge} on a path with loss, where the 99th percentile is decided by requests that lost a packet and needs that many to settle)";
        var (lateP50, lateP99) = Context.Wan.Relay.Lateness();
        report.Paragraph($"The client runs in a network namespace joined to the servers by two TUN devices (MTU 1500) and a relay in the benchmark process that holds every packet for half the round trip in each direction and drops a seeded fraction of them in each direction (this kernel has no netem; in this run a packet left the relay {lateP50 * 1000:F0} µs after its due time at the median, {lateP99 * 1000:F0} µs at the 99th percentile). Every configuration meets the same sequence of drop decisions. One keep-alive connection per run, {posts} POSTs, {chatty} chatty GETs and {large} 1 MiB GETs per run{lossy} after 3 unmeasured ones, two runs per configuration in alternating order; percentiles are over every request of both runs. \"bare Kestrel (A/A control)\" is a second bare endpoint: with loss, which requests lose a packet, and so the tail, differs between any two runs, and its distance from \"bare Kestrel\" shows by how much. The write-write-read client sends headers and a 50-byte body in two writes with Nagle on: its floor is 2 round trips (the body waits for the ACK of the headers), and bare Kestrel adds its delayed ACK. Time to the last byte is the client's; data segments and retransmitted segments per response are the server's (TCP_INFO).");
        report.Table("path", "request", "configuration", ">p50 ms", ">p99 ms", ">data segments per response", ">retransmitted per response");
        foreach (var (profile, _, _) in ActiveProfiles)
        {
            foreach (var what in new[] { Post }.Concat(s_paths))
            {
                foreach (var name in ConfigurationNames)
                {
                    var segments = what == Post ? "n/a" : Measured.Cell("segments", Key(profile, what), name);
                    var retransmits = Measured.Cell("retransmits", Key(profile, what), name);
                    report.Row($"{profile} | {Describe(what)} | {name} | {P(profile, what, name, 0.5):F1} | {P(profile, what, name, 0.99):F1} | {segments} | {retransmits}");
                }
            }
        }

        report.EndTable();
    }

    private (string Name, TimeSpan RoundTrip, double Loss)[] ActiveProfiles => Context.Options.Quick ? Profiles[..1] : Profiles;

    private static string Describe(string what) => what == Post ? Post : CorkWireScenario.Describe(what) + (what == "/chatty-async" ? " (await between writes)" : "");

    public override IEnumerable<Goal> Goals()
    {
        if (Context.Wan is null)
        {
            yield break;
        }

        foreach (var (profile, roundTrip, _) in ActiveProfiles)
        {
            var floor = 2 * roundTrip.TotalMilliseconds + 2;
            var tuned = P(profile, Post, BenchContext.Defaults, 0.5);
            var bare = P(profile, Post, BenchContext.Bare, 0.5);
            yield return new Goal("QuickAck (WAN)", $"{profile}: write-write-read p50 with the library defaults <= 2 RTT + 2 ms ({floor:F0} ms)", string.Create(CultureInfo.InvariantCulture, $"{tuned:F1} ms (bare {bare:F1})"), tuned <= floor);
            foreach (var path in s_paths)
            {
                foreach (var name in ConfigurationNames.Where(n => n is not (BenchContext.Bare or BenchContext.BareControl)))
                {
                    var (p50, p99) = (P(profile, path, name, 0.5), P(profile, path, name, 0.99));
                    var (bareP50, bareP99) = (P(profile, path, BenchContext.Bare, 0.5), P(profile, path, BenchContext.Bare, 0.99));
                    var (controlP50, controlP99) = (P(profile, path, BenchContext.BareControl, 0.5), P(profile, path, BenchContext.BareControl, 0.99));
                    yield return new Goal(
                        name == BenchContext.Defaults ? "MessageBoundary (WAN)" : "Cork (WAN)",
                        $"{profile}: {Describe(path)}, {name}: time to last byte <= bare at p50 and p99",
                        string.Create(CultureInfo.InvariantCulture, $"p50 {p50:F1} (bare {bareP50:F1}, A/A {controlP50:F1}), p99 {p99:F1} (bare {bareP99:F1}, A/A {controlP99:F1}) ms"),
                        p50 <= bareP50 && p99 <= bareP99);
                }
            }
        }
    }
}
