using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>Reads the kernel's per-connection TCP statistics (Linux <c>TCP_INFO</c>) and their fields, in native byte order.</summary>
internal static class TcpInfoReader
{
    /// <summary>The size of the structure as far as the fields the library reads (kernel 5.5 and later).</summary>
    public const int Size = 232;

    /// <summary>
    /// Fills <paramref name="raw"/> (at least <see cref="Size"/> bytes) and returns how many bytes the kernel wrote, or
    /// -1 where the platform has no such option or the socket is closed. Older kernels write less: fields past the end
    /// read as zero.
    /// </summary>
    public static int TryRead(Socket socket, Span<byte> raw)
    {
        if (!TcpPlatform.Current.TryGetTcpInfoOption(out var level, out var name))
        {
            return -1;
        }

        raw.Clear();
        try
        {
            return socket.GetRawSocketOption(level, name, raw);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return -1;
        }
    }

    /// <summary>A field of what <see cref="TryRead"/> returned (its first bytes), or 0 where the kernel did not write it.</summary>
    public static long Read(ReadOnlySpan<byte> raw, TcpInfoField field)
    {
        var offset = (int)field;
        var width = field switch
        {
            TcpInfoField.Retransmits => 1,
            TcpInfoField.PacingRate or TcpInfoField.BytesAcked or TcpInfoField.BytesReceived or TcpInfoField.DeliveryRate
                or TcpInfoField.BusyTimeMicroseconds or TcpInfoField.ReceiveWindowLimitedMicroseconds
                or TcpInfoField.SendBufferLimitedMicroseconds or TcpInfoField.BytesSent => 8,
            _ => 4,
        };
        if (raw.Length < offset + width)
        {
            return 0;
        }

        return width switch
        {
            1 => raw[offset],
            8 => (long)Math.Min(MemoryMarshal.Read<ulong>(raw[offset..]), long.MaxValue),
            _ => MemoryMarshal.Read<uint>(raw[offset..]),
        };
    }
}
