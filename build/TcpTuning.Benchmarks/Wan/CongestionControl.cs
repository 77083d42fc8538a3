namespace TcpTuning.Benchmarks.Wan;

/// <summary>
/// The host's default TCP congestion control, which a server's socket takes when it is accepted: read for the report,
/// and switched for one WAN path, then put back. bbr paces every response at its estimate of the path's bandwidth;
/// cubic (Linux's default) sends what its window allows at once; the two treat a response sent in one burst differently.
/// </summary>
internal static class CongestionControl
{
    private const string DefaultSetting = "/proc/sys/net/ipv4/tcp_congestion_control";

    /// <summary>The default for new connections, or null where the setting is not readable.</summary>
    public static string? Current => File.Exists(DefaultSetting) ? File.ReadAllText(DefaultSetting).Trim() : null;

    /// <summary>Of cubic and bbr, the one that is not the default (the kernel loads its module when it is set).</summary>
    public static string? Other => Current switch
    {
        null => null,
        "cubic" => "bbr",
        _ => "cubic",
    };

    /// <summary>
    /// Makes <paramref name="name"/> the default until the result is disposed, or the process ends or is interrupted
    /// first (a host setting must not outlive the run); null with the reason when refused.
    /// </summary>
    public static IDisposable? TryUse(string name, out string? reason)
    {
        var previous = Current;
        try
        {
            File.WriteAllText(DefaultSetting, name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"setting net.ipv4.tcp_congestion_control to {name} failed ({e.Message})";
            return null;
        }

        reason = null;
        return new Restore(previous!);
    }

    private sealed class Restore : IDisposable
    {
        private readonly string _previous;
        private int _restored;

        public Restore(string previous)
        {
            _previous = previous;
            // SIGTERM (and Ctrl-C, which the command line turns into an exit) ends the process without running the run's finally blocks.
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _restored, 1) == 0)
            {
                File.WriteAllText(DefaultSetting, _previous);
                AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            }
        }

        private void OnProcessExit(object? sender, EventArgs e) => Dispose();
    }
}
