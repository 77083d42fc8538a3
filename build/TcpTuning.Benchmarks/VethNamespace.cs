namespace TcpTuning.Benchmarks;

/// <summary>
/// A network namespace of the benchmark's own, joined to this one by a veth pair with MTU 1500, so that segments
/// have real sizes (loopback's MTU is 64 KiB). Addresses exist only on this pair.
/// </summary>
internal sealed class VethNamespace : IDisposable
{
    public const string Name = "tcptuning-bench";
    private const string HostLink = "tt-veth0";
    private const string NamespaceLink = "tt-veth1";

    private VethNamespace()
    {
    }

    public static VethNamespace? TryCreate(out string? reason)
    {
        Cleanup();
        string[][] steps =
        [
            ["netns", "add", Name],
            ["link", "add", HostLink, "mtu", "1500", "type", "veth", "peer", "name", NamespaceLink, "mtu", "1500"],
            ["link", "set", NamespaceLink, "netns", Name],
            ["addr", "add", $"{BenchEndpoints.VethHost}/24", "dev", HostLink],
            ["link", "set", HostLink, "up"],
            ["-n", Name, "addr", "add", $"{BenchEndpoints.VethClient}/24", "dev", NamespaceLink],
            ["-n", Name, "link", "set", NamespaceLink, "up"],
            ["-n", Name, "link", "set", "lo", "up"],
        ];
        foreach (var step in steps)
        {
            if (NetworkNamespace.Ip(step) is { } error)
            {
                reason = $"`ip {string.Join(' ', step)}` failed: {error}";
                Cleanup();
                return null;
            }
        }

        reason = null;
        return new VethNamespace();
    }

    /// <summary>Runs this benchmark's client subcommand inside the namespace.</summary>
    public static Task<string> RunClientAsync(string arguments) => NetworkNamespace.RunAsync(Name, "client", arguments, TimeSpan.FromMinutes(2));

    public void Dispose() => Cleanup();

    private static void Cleanup()
    {
        NetworkNamespace.Ip(["link", "del", HostLink]);
        NetworkNamespace.Ip(["netns", "del", Name]);
    }
}
