using System.Diagnostics;

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
            if (Ip(step) is { } error)
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
    public static async Task<string> RunClientAsync(string arguments)
    {
        var self = typeof(VethNamespace).Assembly.Location;
        using var process = Process.Start(new ProcessStartInfo("ip", $"netns exec {Name} dotnet \"{self}\" client {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The client in {Name} failed: {await error}");
        }

        return (await output).Trim();
    }

    public void Dispose() => Cleanup();

    private static void Cleanup()
    {
        Ip(["link", "del", HostLink]);
        Ip(["netns", "del", Name]);
    }

    private static string? Ip(string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : error.Trim();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return ex.Message;
        }
    }
}
