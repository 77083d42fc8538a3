namespace TcpTuning.Sample.Tests;

/// <summary>A test of Linux's TCP behaviour (the delayed-ACK stall, TCP_INFO): skipped elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: the stall and TCP_INFO are Linux's.";
        }
    }
}
