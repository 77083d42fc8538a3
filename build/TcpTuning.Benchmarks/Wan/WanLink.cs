using System.Runtime.InteropServices;

namespace TcpTuning.Benchmarks.Wan;

/// <summary>
/// An emulated wide-area path into a network namespace of the benchmark's own: a TUN device here and one in the
/// namespace (MTU 1500), joined by <see cref="TunRelay"/>, which delays and drops packets. The namespace routes the
/// veth pair's server address through it, so a client there reaches the servers' veth endpoints across the emulated
/// wire. Created and removed by the run.
/// </summary>
internal sealed partial class WanLink : IDisposable
{
    public const string Name = "tcptuning-wan";
    private const string HostDevice = "tt-wan0";
    private const string NamespaceDevice = "tt-wan1";
    private const string HostAddress = "10.204.0.1";
    private const string ClientAddress = "10.204.0.2";

    private readonly int _hostFd;
    private readonly int _namespaceFd;

    private WanLink(int hostFd, int namespaceFd)
    {
        _hostFd = hostFd;
        _namespaceFd = namespaceFd;
        Relay = new TunRelay(hostFd, namespaceFd);
    }

    public TunRelay Relay { get; }

    /// <summary>Creates the link, or returns null with the reason (not Linux, not root, no TUN device).</summary>
    public static WanLink? TryCreate(out string? reason)
    {
        Cleanup();
        if (!OperatingSystem.IsLinux() || !File.Exists("/dev/net/tun"))
        {
            reason = "no /dev/net/tun on this machine";
            return null;
        }

        var hostFd = OpenTun(HostDevice);
        var namespaceFd = hostFd < 0 ? -1 : OpenTun(NamespaceDevice);
        if (hostFd < 0 || namespaceFd < 0)
        {
            reason = $"TUNSETIFF failed (errno {Marshal.GetLastPInvokeError()}): run as root";
            CloseFd(hostFd);
            return null;
        }

        string[][] steps =
        [
            ["netns", "add", Name],
            ["link", "set", NamespaceDevice, "netns", Name],
            ["addr", "add", $"{HostAddress}/24", "dev", HostDevice],
            ["link", "set", HostDevice, "mtu", "1500", "up"],
            ["-n", Name, "addr", "add", $"{ClientAddress}/24", "dev", NamespaceDevice],
            ["-n", Name, "link", "set", NamespaceDevice, "mtu", "1500", "up"],
            ["-n", Name, "link", "set", "lo", "up"],
            // The servers listen on the veth pair's address: the namespace reaches it through the emulated wire.
            ["-n", Name, "route", "add", $"{BenchEndpoints.VethHost}/32", "dev", NamespaceDevice],
        ];
        foreach (var step in steps)
        {
            if (NetworkNamespace.Ip(step) is { } error)
            {
                reason = $"`ip {string.Join(' ', step)}` failed: {error}";
                CloseFd(hostFd);
                CloseFd(namespaceFd);
                Cleanup();
                return null;
            }
        }

        reason = null;
        return new WanLink(hostFd, namespaceFd);
    }

    /// <summary>Runs this benchmark's <c>wan-client</c> subcommand inside the namespace and returns its output.</summary>
    public static Task<string> RunClientAsync(string arguments, TimeSpan timeout) => NetworkNamespace.RunAsync(Name, "wan-client", arguments, timeout);

    public void Dispose()
    {
        Relay.Dispose();
        CloseFd(_hostFd);
        CloseFd(_namespaceFd);
        Cleanup();
    }

    private static void Cleanup()
    {
        NetworkNamespace.Ip(["netns", "del", Name]);
        NetworkNamespace.Ip(["link", "del", HostDevice]);
    }

    // A TUN device (IFF_TUN | IFF_NO_PI: bare IP packets) named `name`, held by the returned descriptor.
    private static int OpenTun(string name)
    {
        const int ReadWrite = 2;
        const uint TunSetInterface = 0x400454ca;
        const short Tun = 0x0001;
        const short NoPacketInformation = 0x1000;
        var fd = OpenFd("/dev/net/tun", ReadWrite);
        if (fd < 0)
        {
            return -1;
        }

        // struct ifreq: the name (16 bytes), then the flags (a short), padded to 40 bytes.
        var request = new byte[40];
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(request, 0);
        BitConverter.TryWriteBytes(request.AsSpan(16), (short)(Tun | NoPacketInformation));
        if (Ioctl(fd, TunSetInterface, request) < 0)
        {
            CloseFd(fd);
            return -1;
        }

        return fd;
    }

    private static void CloseFd(int fd)
    {
        if (fd >= 0)
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenFd(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, uint request, byte[] argument);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
