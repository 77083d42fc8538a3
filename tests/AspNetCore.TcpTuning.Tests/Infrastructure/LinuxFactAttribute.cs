namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>A fact about Linux socket options (numbers and kernel behaviour read back); skipped elsewhere, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Reads Linux socket options back; this platform differs.";
        }
    }
}
