using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>Reads Linux's <c>struct tcp_info</c> (include/uapi/linux/tcp.h) field by field at its fixed offsets, in native byte order.</summary>
internal static class TcpInfoReader
{
    // Offsets in struct tcp_info; each field exists since the kernel version noted.
    private const int SndMssOffset = 16;
    private const int RttOffset = 68;
    private const int TotalRetransOffset = 100;
    private const int BytesReceivedOffset = 128; // 4.1
    private const int SegsOutOffset = 136;       // 4.2
    private const int SegsInOffset = 140;        // 4.2
    private const int NotSentBytesOffset = 144;  // 4.6
    private const int DataSegsInOffset = 152;    // 4.6
    private const int DataSegsOutOffset = 156;   // 4.6
    private const int BytesSentOffset = 200;     // 5.5
    private const int Size = 232;

    public static bool TryRead(Socket socket, out TcpInfoSnapshot info)
    {
        info = default;
        if (!TcpPlatform.Current.TryGetTcpInfoOption(out var level, out var name))
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[Size];
        raw.Clear();
        int length;
        try
        {
            length = socket.GetRawSocketOption(level, name, raw);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }

        // Older kernels return a shorter struct: fields past its end stay zero.
        raw = raw[..length];
        info = new TcpInfoSnapshot
        {
            SendMaximumSegmentSize = (int)U32(raw, SndMssOffset),
            RoundTripTime = TimeSpan.FromMicroseconds(U32(raw, RttOffset)),
            TotalRetransmits = U32(raw, TotalRetransOffset),
            SegmentsOut = U32(raw, SegsOutOffset),
            SegmentsIn = U32(raw, SegsInOffset),
            NotSentBytes = U32(raw, NotSentBytesOffset),
            DataSegmentsIn = U32(raw, DataSegsInOffset),
            DataSegmentsOut = U32(raw, DataSegsOutOffset),
            BytesReceived = raw.Length >= BytesReceivedOffset + 8 ? (long)MemoryMarshal.Read<ulong>(raw[BytesReceivedOffset..]) : 0,
            BytesSent = raw.Length >= BytesSentOffset + 8 ? (long)MemoryMarshal.Read<ulong>(raw[BytesSentOffset..]) : 0,
        };
        return true;
    }

    private static uint U32(ReadOnlySpan<byte> raw, int offset)
        => raw.Length >= offset + 4 ? MemoryMarshal.Read<uint>(raw[offset..]) : 0;
}
