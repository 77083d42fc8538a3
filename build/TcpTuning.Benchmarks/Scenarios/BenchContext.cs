using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>What every scenario of a full run shares: the options, the two server processes, the tools, the measurements.</summary>
internal sealed class BenchContext(BenchOptions options, ServerProcess bare, ServerProcess tuned, Wrk? wrk, VethNamespace? veth, string? vethUnavailable, NginxServer? nginx, Wan.WanLink? wan, string? wanUnavailable)
{
    /// <summary>Bare Kestrel: no <c>UseTcpTuning</c>.</summary>
    public const string Bare = "bare Kestrel";

    /// <summary>A second endpoint of the bare server: its distance from <see cref="Bare"/> is a table's noise.</summary>
    public const string BareControl = "bare Kestrel (A/A control)";

    /// <summary>Bare Kestrel with a handler that buffers in Kestrel itself: the best any flush policy can do.</summary>
    public const string Ceiling = "ceiling: bare Kestrel, handler writes with GetSpan/Advance, one flush at the end";

    /// <summary>
    /// The ceiling's handler on the tuned server's <c>Adaptive</c> endpoint (its process and connection wrappers,
    /// <c>PerWrite</c>): next to <see cref="Ceiling"/> it shows what the process and the connection layer cost.
    /// </summary>
    public const string TunedCeiling = "ceiling in the tuned server: Adaptive, handler writes with GetSpan/Advance, one flush at the end";

    public const string Defaults = "Adaptive + MessageBoundary (library defaults)";

    /// <summary>The payload of a full segment across the veth pair: MTU 1500 less the IP, TCP and timestamp headers.</summary>
    public const int VethSegmentPayload = 1448;

    public BenchOptions Options { get; } = options;

    public ServerProcess BareServer { get; } = bare;

    public ServerProcess TunedServer { get; } = tuned;

    /// <summary>wrk, or null when it is not installed (the wrk scenarios then say so and measure nothing).</summary>
    public Wrk? Wrk { get; } = wrk;

    /// <summary>The veth pair into a network namespace, or null (see <see cref="VethUnavailable"/>).</summary>
    public VethNamespace? Veth { get; } = veth;

    public string? VethUnavailable { get; } = vethUnavailable;

    public NginxServer? Nginx { get; } = nginx;

    /// <summary>The emulated wide-area path into a namespace of its own, or null (see <see cref="WanUnavailable"/>).</summary>
    public Wan.WanLink? Wan { get; } = wan;

    public string? WanUnavailable { get; } = wanUnavailable;

    public Measurements Measurements { get; } = new();

    /// <summary>The server process of a loopback endpoint: the bare one for endpoints without QuickAck.</summary>
    public ServerProcess ServerOf(string? quickAck) => quickAck is null ? BareServer : TunedServer;

    public void Progress(int round, FormattableString text)
        => Console.WriteLine($"round {round + 1}/{Options.Rounds} {text.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
}
