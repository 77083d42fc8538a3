using System.Net.Sockets;
using System.Text;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>The congestion-control algorithms the running kernel offers.</summary>
internal static class CongestionControlCatalog
{
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";
    private const string AllowedPath = "/proc/sys/net/ipv4/tcp_allowed_congestion_control";

    /// <summary>The names the kernel offers, or <see langword="null"/> when the platform has no such list.</summary>
    public static IReadOnlySet<string>? GetAvailable() => ReadList(AvailablePath);

    /// <summary>The names any process may set (others need CAP_NET_ADMIN), or <see langword="null"/> without such a list.</summary>
    public static IReadOnlySet<string>? GetAllowed() => ReadList(AllowedPath);

    /// <summary>
    /// Whether this process may set <paramref name="name"/> on a socket: tried on a socket of its own, as the answer
    /// depends on the process's privileges, not only on the kernel's lists.
    /// </summary>
    public static bool CanSet(string name)
    {
        if (!TcpPlatform.Current.TryGetRawOption(TcpOption.CongestionControl, AddressFamily.InterNetwork, out var level, out var option))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.SetRawSocketOption(level, option, Encoding.ASCII.GetBytes(name));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static HashSet<string>? ReadList(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var names = File.ReadAllText(path).Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return names.ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
