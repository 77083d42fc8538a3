using System.Globalization;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// Cork on the wire, across the veth pair: data segments and latency per response written in pieces (nginx with
/// tcp_nopush serving the same bytes, where installed), and requests per second under wrk from inside the namespace.
/// </summary>
internal sealed class CorkWireScenario(BenchContext context) : BenchScenario(context)
{
    // The latency goals compare the slowest request of a run, a tail that one scheduling hiccup moves by milliseconds:
    // several runs per round (each a few hundred milliseconds) steady its median.
    private const int LatencyPasses = 3;

    private int Passes => Context.Options.Quick ? 1 : LatencyPasses;

    private static readonly string[] s_paths = ["/chatty-async", "/kib100", "/mib1"];
    private static readonly string[] s_ratePaths = ["/chatty-async", "/kib100"];
    private static readonly string[] s_corkModes = ["Cork + PerWrite", "Cork + MessageBoundary"];

    private readonly (string Name, int Port)[] _configurations =
        BenchEndpoints.Veth.Select(v => (v.Name, v.Port)).Concat(context.Nginx is null ? [] : [(NginxServer.Name, NginxServer.Port)]).ToArray();

    /// <summary>The bodies nginx serves from files, the same sizes as these responses.</summary>
    public static IReadOnlyDictionary<string, int> NginxBodies { get; } = new Dictionary<string, int> { ["/chatty-async"] = 6400, ["/kib100"] = 100 * 1024, ["/mib1"] = 1024 * 1024 };

    // nginx serves its bytes from a file, so its rate is a reference for the wire, not a like-for-like server comparison.
    private (string Name, int Port)[] RateConfigurations => _configurations.Append((BenchContext.BareControl, BenchEndpoints.VethControlPort)).ToArray();

    public static string Describe(string path) => path switch
    {
        "/chatty-async" => "64 x 100 B",
        "/kib100" => "100 KiB in 1 KiB writes",
        _ => "1 MiB in 4 KiB writes",
    };

    public override async Task RunRoundAsync(int round)
    {
        if (Context.Veth is null)
        {
            return;
        }

        foreach (var path in s_paths)
        {
            foreach (var (name, port) in Stats.RotatePasses(_configurations, round, Passes))
            {
                // p50 ms, max ms, data segments and bytes per response, p99 ms, from the client's TCP_INFO.
                var output = await VethNamespace.RunClientAsync($"http://{BenchEndpoints.VethHost}:{port}/ {path} {(path == "/mib1" ? 20 : 50)}");
                var measured = output.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                Measured.Add("p50", path, name, measured[0]);
                Measured.Add("max", path, name, measured[1]);
                Measured.Add("segments", path, name, measured[2]);
                Measured.Add("bytes", path, name, measured[3]);
                Measured.Add("p99", path, name, measured[4]);
            }
        }

        // The quick run leaves the rates across the veth pair out: the loopback tables cover throughput.
        if (Context.Wrk is not { } wrk || Context.Options.Quick)
        {
            return;
        }

        foreach (var path in s_ratePaths)
        {
            foreach (var (name, port) in Stats.Rotate(RateConfigurations, round))
            {
                var value = (await wrk.RunAsync(new Uri($"http://{BenchEndpoints.VethHost}:{port}{path}"), Context.Options.WrkSeconds, networkNamespace: VethNamespace.Name)).RequestsPerSecond;
                Measured.Add("veth rps", path, name, value);
                Context.Progress(round, $"wrk veth {Describe(path),-26} {name,-46} {value,9:F0} req/s");
            }
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Cork: segments per response across the veth pair");
        if (Context.Veth is null)
        {
            report.Paragraph($"Not measured: {Context.VethUnavailable}");
            return;
        }

        report.Paragraph($"Sequential GETs on one connection from inside the namespace (MTU 1500: {BenchContext.VethSegmentPayload}-byte payloads with timestamps). Each Kestrel response is written in small pieces with `await Task.Yield()` between them (chunked); nginx serves the same body sizes from files (Content-Length). Data segments and bytes per response come from the client's TCP_INFO (`tcpi_data_segs_in`, `tcpi_bytes_received`), the same way for every server; minimum = ceil(bytes per response / {BenchContext.VethSegmentPayload}). Latency is measured by the client (p50, p99 and max over the run; with 50 requests per run, 20 for 1 MiB, p99 is the slowest request, as max is). Every figure is the median over {Passes} runs per round, {Passes * Context.Options.Rounds} runs in all.");
        if (Context.Nginx is null)
        {
            report.Paragraph($"nginx is not installed here, so it has no rows (`build/bench.sh` installs it when run as root).");
        }

        report.Table("response", "configuration", ">data segments", ">minimum", ">p50 ms", ">p99 ms", ">max ms");
        foreach (var path in s_paths)
        {
            foreach (var (name, _) in _configurations)
            {
                report.Row($"{Describe(path)} | {name} | {Measured.Median("segments", path, name):F2} | {Minimum(path, name):F0} | {Measured.Median("p50", path, name):F2} | {Measured.Median("p99", path, name):F2} | {Measured.Median("max", path, name):F2}");
            }
        }

        report.EndTable();
        if (Context.Wrk is null || Context.Options.Quick)
        {
            return;
        }

        report.Heading(3, "Cork throughput across the veth pair");
        report.Paragraph($"`wrk -t1 -c32 -d{Context.Options.WrkSeconds}s` run inside the namespace against the same endpoints (wrk and the server share the 2 cores). The A/A control is a second bare endpoint: with `await` between writes, how many writes share a send depends on timing, so this table is noisier than the loopback ones. nginx serves the same bytes from a file: its rate is a reference for the wire, not a like-for-like comparison of servers.");
        report.Table("response", "configuration", ">requests/s", ">ratio to bare");
        foreach (var path in s_ratePaths)
        {
            foreach (var (name, _) in RateConfigurations)
            {
                report.Row($"{Describe(path)} | {name} | {Measured.Median("veth rps", path, name):F0} | {RateRatio(path, name):F2}");
            }
        }

        report.EndTable();
    }

    public override IEnumerable<Goal> Goals()
    {
        const string Area = "Cork";
        foreach (var mode in s_corkModes)
        {
            foreach (var path in s_paths.Where(p => Measured.Has("segments", p, mode) && Measured.Has("max", p, BenchContext.Bare)))
            {
                var segments = Measured.Median("segments", path, mode);
                var minimum = Minimum(path, mode);
                yield return new Goal(Area, $"{Describe(path)}: {mode} segments per response <= minimum + 1", $"{segments:F2} (minimum {minimum:F0})", segments <= minimum + 1);
                var maxOver = Measured.Median("max", path, mode) - Measured.Median("max", path, BenchContext.Bare);
                yield return new Goal(Area, $"{Describe(path)}: {mode} latency max <= bare max + 1 ms", $"{maxOver:+0.00;-0.00} ms", maxOver <= 1);
            }

            foreach (var path in s_ratePaths.Where(p => Measured.Has("veth rps", p, mode)))
            {
                yield return new Goal(Area, $"{Describe(path)}: {mode} RPS >= bare (veth)", $"{RateRatio(path, mode):F2}", RateRatio(path, mode) >= 1);
            }
        }
    }

    /// <summary>Data segments per response and the minimum, per response and configuration (the chart of the table).</summary>
    public IEnumerable<(string Response, string Configuration, double Segments, double Minimum)> SegmentRows()
        => from path in s_paths
           from configuration in _configurations
           where Measured.Has("segments", path, configuration.Name)
           select (Describe(path), configuration.Name, Measured.Median("segments", path, configuration.Name), Minimum(path, configuration.Name));

    private double Minimum(string path, string name) => Math.Ceiling(Measured.Median("bytes", path, name) / BenchContext.VethSegmentPayload);

    private double RateRatio(string path, string name) => Measured.Median("veth rps", path, name) / Measured.Median("veth rps", path, BenchContext.Bare);
}
