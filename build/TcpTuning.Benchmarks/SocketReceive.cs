using System.Net.Sockets;

namespace TcpTuning.Benchmarks;

/// <summary>Reads from a benchmark client's socket until what has arrived says it is complete.</summary>
internal static class SocketReceive
{
    /// <summary>Whether the bytes received so far hold what the caller waits for.</summary>
    public delegate bool Completes(ReadOnlySpan<byte> received);

    /// <summary>
    /// Receives into <paramref name="buffer"/> from its start until <paramref name="completes"/> says so; throws if the
    /// buffer fills first, the server closes the connection, or 10 seconds pass.
    /// </summary>
    public static async Task UntilAsync(Socket socket, byte[] buffer, Completes completes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var total = 0;
        do
        {
            if (total == buffer.Length)
            {
                throw new IOException("A full buffer without what was waited for.");
            }

            var read = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                throw new IOException("The server closed the connection.");
            }

            total += read;
        }
        while (!completes(buffer.AsSpan(0, total)));
    }
}
