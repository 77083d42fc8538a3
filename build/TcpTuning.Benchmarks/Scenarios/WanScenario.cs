using System.Globalization;
using TcpTuning.Benchmarks.Reporting;
using TcpTuning.Benchmarks.Wan;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Bare Kestrel and the library across an emulated wide-area path (<see cref="WanLink"/>: a user-space relay between two
/// TUN devices that delays every packet and drops a seeded fraction), at each of <see cref="Paths"/>: the Nagle
/// write-write-read client's latency, and the time to the last byte, segments and retransmissions of a chatty response
/// and a 1 MiB one, per request, from one keep-alive connection per run. The lossy path runs under both cubic and bbr
/// (the host's default switched for it): bbr paces a long request/response connection at a bandwidth estimate its own
/// responses set, and a response sent in one burst settles it lower than one sent in dribbles.
/// </summary>
internal sealed class WanScenario(BenchContext context) : BenchScenario(context)
{
    public const string Post = "write-write-read POST";

    /// <summary>Bare Kestrel serving the chatty response from a handler that buffers it itself: the best a flush policy can do.</summary>
    public const string HandBuffered = "bare Kestrel, handler buffers the response (GetSpan/Advance, one flush)";

    /// <summary>The library defaults on an endpoint whose <c>CongestionControl</c> option is cubic, whatever the host's default.</summary>
    public const string EndpointCubic = "library defaults, endpoint CongestionControl: cubic";

    private const string Chatty = "/chatty-async";

    /// <summary>The wide-area paths: name, round trip, loss in each direction, congestion control (null: the host's default).</summary>
    public static IReadOnlyList<WanPath> Paths { get; } = CreatePaths();

    private static readonly string[] s_paths = [Chatty, "/mib1"];

    // The A/A control, a second bare endpoint, shows how far loss alone moves a percentile between two identical servers.
    // The hand-buffered handler runs for the chatty response only (it has no other form); the cubic endpoint only where
    // the host's default is not cubic already (there it is the library defaults again).
    private readonly (string Name, int Port, bool Tuned)[] _configurations =
    [
        (BenchContext.Bare, BenchEndpoints.Veth[0].Port, false),
        (BenchContext.Defaults, BenchEndpoints.Veth[2].Port, true),
        ("Cork + MessageBoundary", BenchEndpoints.Veth[4].Port, true),
        (BenchContext.BareControl, BenchEndpoints.VethControlPort, false),
        (HandBuffered, BenchEndpoints.Veth[0].Port, false),
        (EndpointCubic, BenchEndpoints.VethCubicPort, true),
    ];

    private readonly Dictionary<string, string> _skipped = [];

    /// <summary>
    /// Requests per run: POSTs, chatty GETs, 1 MiB GETs; two runs per configuration and path, in alternating order. With
    /// loss the 99th percentile lies among the requests that lost a packet, so those paths run enough GETs for it to be
    /// one of dozens of such requests rather than the second-worst of 200 (or the worst of 40).
    /// </summary>
    private (int Post, int Chatty, int Large) Requests(WanPath path, string? name = null) => Context.Options.Quick ? (20, 20, 6) : path.Loss == 0 ? (60, 100, 20)
        // cubic at 0.5% loss moves 1 MiB in about 1.7 s (a loss-based window): 150 of them per run would take half an hour.
        : Algorithm(path) == "bbr" && name != EndpointCubic ? (60, 600, 150) : (60, 600, 20);

    private static string? Algorithm(WanPath path) => path.CongestionControl ?? CongestionControl.Current;

    private static WanPath[] CreatePaths()
    {
        var host = CongestionControl.Current ?? "the host's default";
        var lossy = new WanPath($"RTT 40 ms, 0.5% loss, {host}", TimeSpan.FromMilliseconds(40), 0.005, null);
        return CongestionControl.Other is { } other
            ? [lossy, new WanPath($"RTT 40 ms, 0.5% loss, {other}", lossy.RoundTrip, lossy.Loss, other), new WanPath($"RTT 100 ms, {host}", TimeSpan.FromMilliseconds(100), 0, null)]
            : [lossy, new WanPath($"RTT 100 ms, {host}", TimeSpan.FromMilliseconds(100), 0, null)];
    }

    private static IEnumerable<string> RequestsOf(string name, WanPath path) => name switch
    {
        HandBuffered => [Chatty],
        EndpointCubic when Algorithm(path) == "cubic" => [],
        _ => [Post, .. s_paths],
    };

    public override async Task RunAloneAsync()
    {
        if (Context.Wan is not { } wan)
        {
            return;
        }

        foreach (var path in ActivePaths)
        {
            string? reason = null;
            using var congestionControl = path.CongestionControl is { } algorithm ? CongestionControl.TryUse(algorithm, out reason) : null;
            if (reason is not null)
            {
                _skipped[path.Name] = reason;
                continue;
            }

            for (var pass = 0; pass < 2; pass++)
            {
                foreach (var (name, port, tuned) in Stats.Rotate(_configurations, pass))
                {
                    var requests = Requests(path, name);
                    var url = $"http://{BenchEndpoints.VethHost}:{port}/";
                    var server = tuned ? Context.TunedServer : Context.BareServer;
                    foreach (var what in RequestsOf(name, path))
                    {
                        // Each configuration meets the same drop decisions, packet by packet.
                        wan.Relay.Configure(path.RoundTrip, path.Loss, seed: 17 + pass);
                        var arguments = what == Post ? $"post {url} {requests.Post}"
                            : $"get {url} {(name == HandBuffered ? what + "-ideal" : what)} {(what == Chatty ? requests.Chatty : requests.Large)}";
                        await MeasureAsync(server, path.Name, what, name, path.RoundTrip, arguments);
                    }

                    if (RequestsOf(name, path).Contains(Post))
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wan {path.Name} pass {pass + 1}/2 {name}: write-write-read p50 {P(path.Name, Post, name, 0.5):F1} ms, chatty p50 {P(path.Name, Chatty, name, 0.5):F1} ms"));
                    }
                }
            }
        }
    }

    private async Task MeasureAsync(ServerProcess server, string profile, string what, string name, TimeSpan roundTrip, string arguments)
    {
        await server.TakeConnectionsAsync();
        var output = await WanLink.RunClientAsync(arguments, TimeSpan.FromMinutes(4) + roundTrip * 2000);
        var latencies = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        foreach (var latency in latencies)
        {
            Measured.Add("latency", Key(profile, what), name, latency);
        }

        // The connection's second half: where its congestion control has settled after the first losses.
        foreach (var latency in latencies[(latencies.Length / 2)..])
        {
            Measured.Add("settled", Key(profile, what), name, latency);
        }

        // The server's own TCP_INFO at each request's start: what left for each response between the first and the last.
        var sample = (await server.TakeConnectionsAsync()).Single();
        var intervals = Math.Max(1, sample.Requests - 1);
        Measured.Add("segments", Key(profile, what), name, (sample.LastDataSegmentsOut - sample.FirstDataSegmentsOut) / (double)intervals);
        Measured.Add("retransmits", Key(profile, what), name, (sample.LastRetransmits - sample.FirstRetransmits) / (double)intervals);
        Measured.Add("pacing", Key(profile, what), name, sample.LastPacingRate * 8 / 1e6);
    }

    /// <summary>Every request's latency of a configuration at a profile, in milliseconds (the charts read them).</summary>
    public IReadOnlyList<double> Latencies(string profile, string what, string name) => Measured.Values("latency", Key(profile, what), name);

    public IEnumerable<string> ConfigurationNames => _configurations.Select(c => c.Name);

    private static string Key(string profile, string what) => $"wan {profile} {what}";

    // A percentile of a configuration's requests ("latency": all of them; "settled": each connection's second half).
    private double P(string profile, string what, string name, double fraction, string measure = "latency")
    {
        var values = Measured.Values(measure, Key(profile, what), name);
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

        var counts = string.Join("; ", ActivePaths.Select(p => (p.Name, Requests(p))).GroupBy(p => p.Item2, p => p.Name)
            .Select(g => $"{g.Key.Post} POSTs, {g.Key.Chatty} chatty GETs and {g.Key.Large} 1 MiB GETs on {string.Join(" and ", g)}"));
        var cubicLarge = ActivePaths.Where(p => RequestsOf(EndpointCubic, p).Any() && Requests(p, EndpointCubic).Large != Requests(p).Large)
            .Select(p => Requests(p, EndpointCubic).Large).FirstOrDefault();
        var (lateP50, lateP99) = Context.Wan.Relay.Lateness();
        report.Paragraph($"The client runs in a network namespace joined to the servers by two TUN devices (MTU 1500) and a relay in the benchmark process that holds every packet for half the round trip in each direction and drops a seeded fraction of them in each direction (this kernel has no netem; in this run a packet left the relay {lateP50 * 1000:F0} µs after its due time at the median, {lateP99 * 1000:F0} µs at the 99th percentile). Every configuration meets the same sequence of drop decisions. One keep-alive connection per run, after 3 unmeasured requests: {counts} (with loss the 99th percentile is decided by requests that lost a packet and needs hundreds to settle; cubic moves 1 MiB across the lossy path in seconds, so fewer of those), two runs per configuration in alternating order; percentiles are over every request of both runs. \"bare Kestrel (A/A control)\" is a second bare endpoint: with loss, which requests lose a packet, and so the tail, differs between any two runs, and its distance from \"bare Kestrel\" shows by how much. The write-write-read client sends headers and a 50-byte body in two writes with Nagle on: its floor is 2 round trips (the body waits for the ACK of the headers), and bare Kestrel adds its delayed ACK; the goal counts the relay's median lateness into each round trip. Time to the last byte is the client's; data segments and retransmitted segments per response are the server's (TCP_INFO), and so is the pacing rate at the start of each connection's last request.");
        report.Paragraph($"\"{EndpointCubic}\" is the library defaults on an endpoint whose `CongestionControl` option is cubic (set on its listen socket, so each connection starts with it), measured where the host's default is not cubic{(cubicLarge > 0 ? $"; it runs {cubicLarge} 1 MiB GETs per run on a lossy path, as cubic there is slow" : "")}. It is README's second way out of bbr's settled pacing, and shows what it costs elsewhere.");
        report.Paragraph($"The servers' congestion control is the host's default ({CongestionControl.Current ?? "unknown"}), except on a path whose name gives another: for it the run switches the default and puts it back. \"settled p50\" is the median over the second half of each connection's requests, after its congestion control has met the first losses. bbr paces each response at its estimate of the path's bandwidth, and on a long request/response connection that estimate comes from the responses themselves: once a lossy connection leaves its start-up phase, a response sent in one burst settles at a slower pace than the same bytes dribbled out in 64 writes. \"{HandBuffered}\" is bare Kestrel with the chatty handler written to send once, the best any flush policy can do. cubic sends what its window allows at once, with no pacing.{Settled()}");
        foreach (var (path, reason) in _skipped)
        {
            report.Paragraph($"{path}: not measured, {reason}.");
        }

        report.Table("path", "request", "configuration", ">p50 ms", ">settled p50 ms", ">p99 ms", ">data segments per response", ">retransmitted per response", ">pacing rate at the end, Mbit/s");
        foreach (var path in ActivePaths.Where(p => !_skipped.ContainsKey(p.Name)))
        {
            foreach (var what in new[] { Post }.Concat(s_paths))
            {
                foreach (var name in ConfigurationNames.Where(n => RequestsOf(n, path).Contains(what)))
                {
                    var segments = what == Post ? "n/a" : Measured.Cell("segments", Key(path.Name, what), name);
                    var retransmits = Measured.Cell("retransmits", Key(path.Name, what), name);
                    var settled = P(path.Name, what, name, 0.5, "settled");
                    var pacing = what == Post ? "n/a" : Measured.Cell("pacing", Key(path.Name, what), name);
                    report.Row($"{path.Name} | {Describe(what)} | {name} | {P(path.Name, what, name, 0.5):F1} | {settled:F1} | {P(path.Name, what, name, 0.99):F1} | {segments} | {retransmits} | {pacing}");
                }
            }
        }

        report.EndTable();
    }

    // The chatty response's settled p50 on each lossy path: bare Kestrel's dribble, the library, the hand-buffered handler.
    private string Settled() => string.Concat(ActivePaths.Where(p => p.Loss > 0 && !_skipped.ContainsKey(p.Name)).Select(p =>
    {
        double Of(string name) => P(p.Name, Chatty, name, 0.5, "settled");
        var cubic = RequestsOf(EndpointCubic, p).Any() ? string.Create(CultureInfo.InvariantCulture, $", endpoint cubic {Of(EndpointCubic):F1}") : "";
        return string.Create(CultureInfo.InvariantCulture, $" {p.Name}, chatty response settled p50: bare Kestrel {Of(BenchContext.Bare):F1} ms (A/A {Of(BenchContext.BareControl):F1}), library defaults {Of(BenchContext.Defaults):F1}, hand-buffered {Of(HandBuffered):F1}{cubic}.");
    }));

    private IReadOnlyList<WanPath> ActivePaths => Context.Options.Quick ? Paths.Take(1).ToArray() : Paths;

    private static string Describe(string what) => what == Post ? Post : CorkWireScenario.Describe(what) + (what == Chatty ? " (await between writes)" : "");

    public override IEnumerable<Goal> Goals()
    {
        if (Context.Wan is null)
        {
            yield break;
        }

        foreach (var (profile, roundTrip, _, _) in ActivePaths.Where(p => !_skipped.ContainsKey(p.Name)))
        {
            // The relay delivers each packet a little after its due time: the emulated round trip is that much longer.
            var floor = 2 * (roundTrip.TotalMilliseconds + 2 * Context.Wan.Relay.Lateness().P50) + 2;
            var tuned = P(profile, Post, BenchContext.Defaults, 0.5);
            var bare = P(profile, Post, BenchContext.Bare, 0.5);
            yield return new Goal("QuickAck (WAN)", $"{profile}: write-write-read p50 with the library defaults <= 2 RTT + 2 ms ({floor:F1} ms with the relay's lateness)", string.Create(CultureInfo.InvariantCulture, $"{tuned:F1} ms (bare {bare:F1})"), tuned <= floor);
            foreach (var path in s_paths)
            {
                foreach (var name in ConfigurationNames.Where(n => n is not (BenchContext.Bare or BenchContext.BareControl or HandBuffered or EndpointCubic)))
                {
                    var (p50, p99) = (P(profile, path, name, 0.5), P(profile, path, name, 0.99));
                    var (bareP50, bareP99) = (P(profile, path, BenchContext.Bare, 0.5), P(profile, path, BenchContext.Bare, 0.99));
                    var (controlP50, controlP99) = (P(profile, path, BenchContext.BareControl, 0.5), P(profile, path, BenchContext.BareControl, 0.99));
                    var ceiling = path == Chatty ? string.Create(CultureInfo.InvariantCulture, $"; hand-buffered p50 {P(profile, path, HandBuffered, 0.5):F1}, p99 {P(profile, path, HandBuffered, 0.99):F1}") : "";
                    yield return new Goal(
                        name == BenchContext.Defaults ? "MessageBoundary (WAN)" : "Cork (WAN)",
                        $"{profile}: {Describe(path)}, {name}: time to last byte <= bare at p50 and p99",
                        string.Create(CultureInfo.InvariantCulture, $"p50 {p50:F1} (bare {bareP50:F1}, A/A {controlP50:F1}), p99 {p99:F1} (bare {bareP99:F1}, A/A {controlP99:F1}) ms{ceiling}"),
                        p50 <= bareP50 && p99 <= bareP99);
                }
            }
        }
    }
}

/// <summary>One emulated wide-area path: round trip, loss in each direction, and the congestion control (null: the host's default).</summary>
internal sealed record WanPath(string Name, TimeSpan RoundTrip, double Loss, string? CongestionControl);
