using System.Net.Sockets;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// The one place that knows which TCP options an operating system has and their raw numbers.
/// Everything else asks this type instead of checking the operating system.
/// </summary>
internal sealed class TcpPlatform
{
    // Raw option numbers, from linux/tcp.h, netinet/tcp.h (Darwin, FreeBSD) and linux/in6.h.
    private const int IPPROTO_IP = 0;
    private const int IPPROTO_IPV6 = 41;
    private const int IPPROTO_TCP = 6;
    private const int LinuxIpTos = 1;
    private const int BsdIpTos = 3; // Darwin and FreeBSD (netinet/in.h); their 1 is IP_OPTIONS

    private const int LinuxTcpDeferAccept = 9;
    private const int LinuxTcpInfo = 11;
    private const int LinuxTcpQuickAck = 12;
    private const int LinuxTcpCongestion = 13;
    private const int LinuxTcpUserTimeout = 18;
    private const int LinuxTcpFastOpen = 23;
    private const int LinuxTcpNotSentLowat = 25;
    private const int LinuxIpv6TClass = 67;

    private const int DarwinTcpNotSentLowat = 0x201;
    private const int DarwinTcpConnectionInfo = 0x106;
    private const int WindowsSioTcpInfo = unchecked((int)0xD8000027); // _WSAIORW(IOC_VENDOR, 39), mstcpip.h
    private const int DarwinIpv6TClass = 36;
    private const int FreeBsdIpv6TClass = 61;

    public static TcpPlatform Current { get; } = new(Detect());

    public TcpPlatform(TcpPlatformKind kind) => Kind = kind;

    public TcpPlatformKind Kind { get; }

    public string Name => Kind.ToString();

    /// <summary>Whether the option can be applied here. Options with a portable .NET API are supported on every kind.</summary>
    public bool Supports(TcpOption option) => option switch
    {
        TcpOption.NoDelay or TcpOption.SendBufferSize or TcpOption.ReceiveBufferSize or TcpOption.Linger or TcpOption.KeepAlive => true,
        TcpOption.KeepAliveIdle or TcpOption.KeepAliveInterval or TcpOption.KeepAliveCount => Kind is not TcpPlatformKind.Other,
        TcpOption.TypeOfService => Kind is TcpPlatformKind.Linux or TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd,
        // Not a socket option: the send pump holds partial segments itself and needs the segment size from TCP_INFO,
        // read here only on Linux. (The kernel's TCP_CORK was measured and dropped: see CorkingSendPump.)
        TcpOption.Cork => Kind is TcpPlatformKind.Linux,
        TcpOption.NotSentLowWatermark => Kind is TcpPlatformKind.Linux or TcpPlatformKind.MacOS,
        TcpOption.QuickAck or TcpOption.UserTimeout or TcpOption.CongestionControl or TcpOption.DeferAccept or TcpOption.FastOpenQueueLength
            => Kind is TcpPlatformKind.Linux,
        _ => false,
    };

    /// <summary>The level and name of an option that has no <see cref="SocketOptionName"/> of its own.</summary>
    public bool TryGetRawOption(TcpOption option, AddressFamily family, out int level, out int name)
    {
        level = IPPROTO_TCP;
        name = (Kind, option) switch
        {
            (TcpPlatformKind.Linux, TcpOption.QuickAck) => LinuxTcpQuickAck,
            (TcpPlatformKind.Linux, TcpOption.UserTimeout) => LinuxTcpUserTimeout,
            (TcpPlatformKind.Linux, TcpOption.NotSentLowWatermark) => LinuxTcpNotSentLowat,
            (TcpPlatformKind.MacOS, TcpOption.NotSentLowWatermark) => DarwinTcpNotSentLowat,
            (TcpPlatformKind.Linux, TcpOption.CongestionControl) => LinuxTcpCongestion,
            (TcpPlatformKind.Linux, TcpOption.DeferAccept) => LinuxTcpDeferAccept,
            (TcpPlatformKind.Linux, TcpOption.FastOpenQueueLength) => LinuxTcpFastOpen,
            _ => -1,
        };

        if (option == TcpOption.TypeOfService)
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                level = IPPROTO_IPV6;
                name = Kind switch
                {
                    TcpPlatformKind.Linux => LinuxIpv6TClass,
                    TcpPlatformKind.MacOS => DarwinIpv6TClass,
                    TcpPlatformKind.FreeBsd => FreeBsdIpv6TClass,
                    _ => -1,
                };
            }
            else
            {
                level = IPPROTO_IP;
                name = Kind switch
                {
                    TcpPlatformKind.Linux => LinuxIpTos,
                    TcpPlatformKind.MacOS or TcpPlatformKind.FreeBsd => BsdIpTos,
                    _ => -1,
                };
            }
        }

        return name >= 0;
    }

    /// <summary>
    /// The level and name of the socket option that reads the kernel's per-connection TCP statistics: Linux's
    /// TCP_INFO (<c>struct tcp_info</c>), macOS's TCP_CONNECTION_INFO (<c>struct tcp_connection_info</c>).
    /// </summary>
    public bool TryGetTcpInfoOption(out int level, out int name)
    {
        level = IPPROTO_TCP;
        name = Kind switch
        {
            TcpPlatformKind.Linux => LinuxTcpInfo,
            TcpPlatformKind.MacOS => DarwinTcpConnectionInfo,
            _ => -1,
        };
        return name >= 0;
    }

    /// <summary>Windows reads them with an ioctl instead, SIO_TCP_INFO (<c>TCP_INFO_v0</c>, input version 0).</summary>
    public bool TryGetTcpInfoIoControl(out int ioControlCode)
    {
        ioControlCode = Kind is TcpPlatformKind.Windows ? WindowsSioTcpInfo : 0;
        return Kind is TcpPlatformKind.Windows;
    }

    private static TcpPlatformKind Detect()
    {
        if (OperatingSystem.IsLinux())
        {
            return TcpPlatformKind.Linux;
        }

        if (OperatingSystem.IsMacOS())
        {
            return TcpPlatformKind.MacOS;
        }

        if (OperatingSystem.IsFreeBSD())
        {
            return TcpPlatformKind.FreeBsd;
        }

        return OperatingSystem.IsWindows() ? TcpPlatformKind.Windows : TcpPlatformKind.Other;
    }
}
