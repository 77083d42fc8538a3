using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>Plain-socket client steps for tests that watch bytes as they arrive.</summary>
internal static class SocketText
{
    /// <summary>A TCP socket connected to the host and port of <paramref name="address"/> (an IP literal).</summary>
    public static async Task<Socket> ConnectAsync(Uri address)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
        return socket;
    }

    /// <summary>
    /// Receives until what arrived (appended to <paramref name="received"/>, ASCII) contains <paramref name="expected"/>;
    /// fails if the peer closes first, and is cancelled after <paramref name="timeout"/>.
    /// </summary>
    public static async Task ReceiveUntilAsync(Socket socket, string expected, TimeSpan timeout, StringBuilder? received = null)
    {
        using var cancel = new CancellationTokenSource(timeout);
        received ??= new StringBuilder();
        var buffer = new byte[8192];
        while (!received.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
            Assert.NotEqual(0, read);
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }
}
