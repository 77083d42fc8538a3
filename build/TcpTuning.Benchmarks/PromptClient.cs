using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TcpTuning.Benchmarks;

/// <summary>
/// An interactive exchange: the handler writes a prompt, then reads the request body, which the client sends only once
/// it has seen the prompt. Measures the time from the request to the prompt's arrival, on one keep-alive connection.
/// </summary>
internal static class PromptClient
{
    private static readonly byte[] s_request = Encoding.ASCII.GetBytes("POST /prompt HTTP/1.1\r\nHost: bench\r\nContent-Length: 5\r\n\r\n");
    private static readonly byte[] s_body = "hello"u8.ToArray();

    /// <returns>Milliseconds from each request's send to its prompt's arrival.</returns>
    public static async Task<List<double>> MeasureAsync(Uri address, int exchanges)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
        var buffer = new byte[4096];
        var latencies = new List<double>(exchanges);
        for (var i = 0; i < exchanges; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await socket.SendAsync(s_request);
            await ReceiveUntilAsync(socket, buffer, "prompt"u8.ToArray());
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            await socket.SendAsync(s_body);
            await ReceiveUntilAsync(socket, buffer, "0\r\n\r\n"u8.ToArray());
        }

        return latencies;
    }

    private static Task ReceiveUntilAsync(Socket socket, byte[] buffer, byte[] marker)
        => SocketReceive.UntilAsync(socket, buffer, received => received.IndexOf(marker) >= 0);
}
