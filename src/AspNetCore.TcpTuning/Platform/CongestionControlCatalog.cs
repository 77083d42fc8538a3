namespace AspNetCore.TcpTuning.Platform;

/// <summary>The congestion-control algorithms the running kernel offers.</summary>
internal static class CongestionControlCatalog
{
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";

    /// <summary>The names the kernel lists, or <see langword="null"/> when the platform has no such list.</summary>
    public static IReadOnlySet<string>? GetAvailable()
    {
        try
        {
            if (!File.Exists(AvailablePath))
            {
                return null;
            }

            var names = File.ReadAllText(AvailablePath).Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return names.ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
