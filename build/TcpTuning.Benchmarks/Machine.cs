using System.Runtime.InteropServices;

namespace TcpTuning.Benchmarks;

internal static class Machine
{
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        var autocorking = Sysctl("net/ipv4/tcp_autocorking");
        return $"{Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, " +
            $"kernel {kernel}, .NET {Environment.Version}, net.ipv4.tcp_autocorking={autocorking}, net.ipv4.tcp_congestion_control={Wan.CongestionControl.Current ?? "n/a"}";
    }

    private static string Sysctl(string name)
    {
        var path = Path.Combine("/proc/sys", name);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : "n/a";
    }
}
