using System.Globalization;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// The level and option names a raw socket option may use, per platform, from each OS's headers (linux/tcp.h,
/// asm-generic/socket.h, linux/in.h, linux/in6.h; Darwin's, FreeBSD's and Winsock's). Numbers are taken as given.
/// </summary>
internal static class RawOptionNames
{
    private static readonly Dictionary<string, int> s_linuxTcp = new(StringComparer.Ordinal)
    {
        ["TCP_NODELAY"] = 1, ["TCP_MAXSEG"] = 2, ["TCP_CORK"] = 3, ["TCP_KEEPIDLE"] = 4, ["TCP_KEEPINTVL"] = 5, ["TCP_KEEPCNT"] = 6,
        ["TCP_SYNCNT"] = 7, ["TCP_LINGER2"] = 8, ["TCP_DEFER_ACCEPT"] = 9, ["TCP_WINDOW_CLAMP"] = 10, ["TCP_QUICKACK"] = 12,
        ["TCP_THIN_LINEAR_TIMEOUTS"] = 16, ["TCP_USER_TIMEOUT"] = 18, ["TCP_FASTOPEN"] = 23, ["TCP_NOTSENT_LOWAT"] = 25,
    };

    private static readonly Dictionary<string, int> s_linuxSocket = new(StringComparer.Ordinal)
    {
        ["SO_KEEPALIVE"] = 9, ["SO_SNDBUF"] = 7, ["SO_RCVBUF"] = 8, ["SO_PRIORITY"] = 12, ["SO_RCVLOWAT"] = 18, ["SO_SNDLOWAT"] = 19,
        ["SO_MARK"] = 36, ["SO_BUSY_POLL"] = 46, ["SO_INCOMING_CPU"] = 49, ["SO_ZEROCOPY"] = 60,
    };

    private static readonly Dictionary<string, int> s_linuxIp = new(StringComparer.Ordinal) { ["IP_TOS"] = 1, ["IP_TTL"] = 2 };

    private static readonly Dictionary<string, int> s_linuxIpv6 = new(StringComparer.Ordinal) { ["IPV6_UNICAST_HOPS"] = 16, ["IPV6_TCLASS"] = 67 };

    private static readonly Dictionary<string, int> s_bsdTcp = new(StringComparer.Ordinal) { ["TCP_NODELAY"] = 1, ["TCP_MAXSEG"] = 2, ["TCP_NOPUSH"] = 4 };

    private static readonly Dictionary<string, int> s_bsdSocket = new(StringComparer.Ordinal) { ["SO_KEEPALIVE"] = 0x8, ["SO_SNDBUF"] = 0x1001, ["SO_RCVBUF"] = 0x1002, ["SO_SNDLOWAT"] = 0x1003, ["SO_RCVLOWAT"] = 0x1004 };

    private static readonly Dictionary<string, int> s_bsdIp = new(StringComparer.Ordinal) { ["IP_TOS"] = 3, ["IP_TTL"] = 4 };

    private static readonly Dictionary<string, int> s_windowsTcp = new(StringComparer.Ordinal) { ["TCP_NODELAY"] = 1, ["TCP_MAXSEG"] = 4 };

    private static readonly Dictionary<string, int> s_windowsSocket = new(StringComparer.Ordinal) { ["SO_KEEPALIVE"] = 0x8, ["SO_SNDBUF"] = 0x1001, ["SO_RCVBUF"] = 0x1002 };

    private static readonly Dictionary<string, int> s_windowsIp = new(StringComparer.Ordinal) { ["IP_TOS"] = 3, ["IP_TTL"] = 4 };

    private static readonly Dictionary<string, int> s_none = new(StringComparer.Ordinal);

    /// <summary>The level's number: a name (<c>Tcp</c>, <c>Socket</c>, <c>IP</c>, <c>IPv6</c>, any case) or a number from 0 to 65535.</summary>
    public static bool TryGetLevel(TcpPlatformKind kind, string level, out int number)
    {
        number = level.ToUpperInvariant() switch
        {
            "TCP" => 6,
            "IP" => 0,
            "IPV6" => 41,
            "SOCKET" => kind == TcpPlatformKind.Linux ? 1 : 0xffff,
            _ => int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= ushort.MaxValue ? parsed : -1,
        };
        return number >= 0;
    }

    /// <summary>The option's number: a name known for the level on this platform, or a non-negative number.</summary>
    public static bool TryGetName(TcpPlatformKind kind, int level, string name, out int number)
    {
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            return true;
        }

        return Names(kind, level).TryGetValue(name, out number);
    }

    /// <summary>The names known for a level on a platform, for an error message.</summary>
    public static IEnumerable<string> Known(TcpPlatformKind kind, int level) => Names(kind, level).Keys.Order(StringComparer.Ordinal);

    private static Dictionary<string, int> Names(TcpPlatformKind kind, int level) => (kind, level) switch
    {
        (TcpPlatformKind.Linux, 6) => s_linuxTcp,
        (TcpPlatformKind.Linux, 1) => s_linuxSocket,
        (TcpPlatformKind.Linux, 0) => s_linuxIp,
        (TcpPlatformKind.Linux, 41) => s_linuxIpv6,
        (TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd, 6) => s_bsdTcp,
        (TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd, 0xffff) => s_bsdSocket,
        (TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd, 0) => s_bsdIp,
        (TcpPlatformKind.Windows, 6) => s_windowsTcp,
        (TcpPlatformKind.Windows, 0xffff) => s_windowsSocket,
        (TcpPlatformKind.Windows, 0) => s_windowsIp,
        _ => s_none,
    };
}
