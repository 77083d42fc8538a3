using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// Reads the kernel's per-connection TCP statistics (Linux's TCP_INFO; macOS's TCP_CONNECTION_INFO and Windows'
/// SIO_TCP_INFO from their documented layouts, untested here) and their fields, in native byte order.
/// </summary>
internal static class TcpInfoReader
{
    /// <summary>The size of the structure as far as the fields the library reads (kernel 5.5 and later).</summary>
    public const int Size = 232;

    /// <summary>
    /// Fills <paramref name="raw"/> (at least <see cref="Size"/> bytes) with the platform's structure and returns how
    /// many bytes the kernel wrote, or -1 where the platform has none or the socket is closed. Older kernels write
    /// less: fields past the end read as zero.
    /// </summary>
    public static int TryRead(Socket socket, Span<byte> raw)
    {
        var platform = TcpPlatform.Current;
        raw.Clear();
        try
        {
            if (platform.TryGetTcpInfoOption(out var level, out var name))
            {
                return socket.GetRawSocketOption(level, name, raw);
            }

            if (platform.TryGetTcpInfoIoControl(out var ioControlCode))
            {
                // Version 0 in, TCP_INFO_v0 out; the ioctl takes arrays.
                var output = new byte[WindowsTcpInfoLayout.Size];
                var written = socket.IOControl(ioControlCode, new byte[4], output);
                output.AsSpan(0, Math.Min(written, raw.Length)).CopyTo(raw);
                return written;
            }

            return -1;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return -1;
        }
    }

    /// <summary>A field of what <see cref="TryRead"/> returned (its first bytes) here, in Linux's units, or 0 where the kernel did not write it.</summary>
    public static long Read(ReadOnlySpan<byte> raw, TcpInfoField field) => Read(raw, field, TcpPlatform.Current.Kind);

    /// <summary>A field of a structure of <paramref name="kind"/>'s layout, in Linux's units, or 0 where it has none.</summary>
    public static long Read(ReadOnlySpan<byte> raw, TcpInfoField field, TcpPlatformKind kind) => kind switch
    {
        TcpPlatformKind.Windows => WindowsTcpInfoLayout.Read(raw, field),
        TcpPlatformKind.MacOS => DarwinTcpInfoLayout.Read(raw, field),
        TcpPlatformKind.Linux => ReadLinux(raw, field),
        _ => 0,
    };

    public static long ReadUInt32(ReadOnlySpan<byte> raw, int offset) => MemoryMarshal.Read<uint>(raw[offset..]);

    public static long ReadUInt64(ReadOnlySpan<byte> raw, int offset) => (long)Math.Min(MemoryMarshal.Read<ulong>(raw[offset..]), long.MaxValue);

    private static long ReadLinux(ReadOnlySpan<byte> raw, TcpInfoField field)
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
            8 => ReadUInt64(raw, offset),
            _ => ReadUInt32(raw, offset),
        };
    }
}
