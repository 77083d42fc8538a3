namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>A theory about Linux socket behaviour; skipped elsewhere, saying so.</summary>
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Reads Linux socket behaviour; this platform differs.";
        }
    }
}
