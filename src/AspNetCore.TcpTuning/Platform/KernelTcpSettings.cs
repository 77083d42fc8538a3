using System.Globalization;

namespace AspNetCore.TcpTuning.Platform;

/// <summary>System-wide TCP settings that decide whether a socket option has any effect.</summary>
internal static class KernelTcpSettings
{
    private const string FastOpenPath = "/proc/sys/net/ipv4/tcp_fastopen";
    private const int FastOpenServerBit = 0x2;

    /// <summary>
    /// <c>net.ipv4.tcp_fastopen</c>, or null where it cannot be read. Without its server bit (2) the kernel accepts
    /// TCP_FASTOPEN on a listen socket and ignores it.
    /// </summary>
    public static int? FastOpen()
    {
        try
        {
            return File.Exists(FastOpenPath) && int.TryParse(File.ReadAllText(FastOpenPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="fastOpen"/> (a <c>net.ipv4.tcp_fastopen</c> value) lets servers use Fast Open.</summary>
    public static bool AllowsServerFastOpen(int fastOpen) => (fastOpen & FastOpenServerBit) != 0;
}
