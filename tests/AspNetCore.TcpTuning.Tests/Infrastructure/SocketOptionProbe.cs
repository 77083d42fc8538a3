using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>Reads socket options back with getsockopt, with Linux numbers, as the kernel reports them.</summary>
public static class SocketOptionProbe
{
    private const int IPPROTO_TCP = 6;
    private const int IPPROTO_IP = 0;
    private const int IP_TOS = 1;
    private const int TCP_DEFER_ACCEPT = 9;
    private const int TCP_QUICKACK = 12;
    private const int TCP_CONGESTION = 13;
    private const int TCP_USER_TIMEOUT = 18;
    private const int TCP_FASTOPEN = 23;
    private const int TCP_NOTSENT_LOWAT = 25;

    public static Dictionary<string, string> Read(Socket socket) => new()
    {
        ["NoDelay"] = ((int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.NoDelay)! != 0).ToString(),
        ["SendBufferSize"] = socket.SendBufferSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ReceiveBufferSize"] = socket.ReceiveBufferSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["KeepAlive:Enabled"] = ((int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0).ToString(),
        ["KeepAlive:Idle"] = Int(socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)),
        ["KeepAlive:Interval"] = Int(socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)),
        ["KeepAlive:Count"] = Int(socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)),
        ["UserTimeout"] = RawInt(socket, IPPROTO_TCP, TCP_USER_TIMEOUT).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["NotSentLowWatermark"] = RawInt(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["TypeOfService"] = RawInt(socket, IPPROTO_IP, IP_TOS).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["CongestionControl"] = CongestionControl(socket),
        ["Linger"] = socket.LingerState is { Enabled: true } linger ? linger.LingerTime.ToString(System.Globalization.CultureInfo.InvariantCulture) : "off",
    };

    public static int DeferAcceptSeconds(Socket listenSocket) => RawInt(listenSocket, IPPROTO_TCP, TCP_DEFER_ACCEPT);

    public static int FastOpenQueueLength(Socket listenSocket) => RawInt(listenSocket, IPPROTO_TCP, TCP_FASTOPEN);

    public static int QuickAck(Socket socket) => RawInt(socket, IPPROTO_TCP, TCP_QUICKACK);

    public static int RawInt(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        socket.GetRawSocketOption(level, name, value);
        return MemoryMarshal.Read<int>(value);
    }

    private static string Int(object? value) => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;

    public static string CongestionControl(Socket socket)
    {
        Span<byte> name = stackalloc byte[16];
        var length = socket.GetRawSocketOption(IPPROTO_TCP, TCP_CONGESTION, name);
        return Encoding.ASCII.GetString(name[..length]).TrimEnd('\0');
    }
}
