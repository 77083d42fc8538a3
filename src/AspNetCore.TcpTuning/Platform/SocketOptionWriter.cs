using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>Sets one option on a socket with the platform's numbers. Never throws for a socket that failed or closed.</summary>
internal sealed class SocketOptionWriter
{
    private readonly TcpPlatform _platform;

    public SocketOptionWriter(TcpPlatform platform) => _platform = platform;

    /// <summary>Sets the option; returns <see langword="null"/> on success, else the error (a <see cref="SocketError"/> name).</summary>
    public string? TrySet(Socket socket, SocketOptionSetting setting)
    {
        try
        {
            switch (setting.Option)
            {
                case TcpOption.NoDelay:
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.NoDelay, setting.Value);
                    break;
                case TcpOption.SendBufferSize:
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.SendBuffer, setting.Value);
                    break;
                case TcpOption.ReceiveBufferSize:
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, setting.Value);
                    break;
                case TcpOption.KeepAlive:
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, setting.Value);
                    break;
                case TcpOption.KeepAliveIdle:
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, setting.Value);
                    break;
                case TcpOption.KeepAliveInterval:
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, setting.Value);
                    break;
                case TcpOption.KeepAliveCount:
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, setting.Value);
                    break;
                case TcpOption.Linger:
                    socket.LingerState = new LingerOption(enable: true, setting.Value);
                    break;
                default:
                    return SetRaw(socket, setting);
            }

            return null;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode.ToString();
        }
        catch (ObjectDisposedException)
        {
            return nameof(ObjectDisposedException);
        }
    }

    private string? SetRaw(Socket socket, SocketOptionSetting setting)
    {
        int level, name;
        if (setting.Option == TcpOption.Raw)
        {
            (level, name) = (setting.Level, setting.Name);
        }
        else if (!_platform.TryGetRawOption(setting.Option, socket.AddressFamily, out level, out name))
        {
            return nameof(SocketError.ProtocolOption);
        }

        if (setting.Text is not null)
        {
            socket.SetRawSocketOption(level, name, setting.Text);
            return null;
        }

        Span<byte> value = stackalloc byte[sizeof(int)];
        var raw = setting.Value;
        MemoryMarshal.Write(value, in raw);
        socket.SetRawSocketOption(level, name, value);

        // A dual-mode IPv6 socket talking to an IPv4 peer sends IPv4 headers, whose byte is IP_TOS, not IPV6_TCLASS.
        if (setting.Option == TcpOption.TypeOfService && socket.AddressFamily == AddressFamily.InterNetworkV6
            && _platform.TryGetRawOption(TcpOption.TypeOfService, AddressFamily.InterNetwork, out level, out name))
        {
            try
            {
                socket.SetRawSocketOption(level, name, value);
            }
            catch (SocketException)
            {
                // IPv6-only sockets may refuse it; the IPv6 value is what they use.
            }
        }

        return null;
    }
}
