using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpTuning.Benchmarks;

/// <summary>Runs wrk against one URL and reads its requests per second and request count.</summary>
internal sealed partial class Wrk(string path)
{
    public static Wrk? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "wrk");
            if (File.Exists(candidate))
            {
                return new Wrk(candidate);
            }
        }

        return null;
    }

    /// <param name="url">The target.</param>
    /// <param name="seconds">How long wrk runs.</param>
    /// <param name="connections">wrk's connections.</param>
    /// <param name="script">A wrk Lua script, or null.</param>
    /// <param name="scriptArguments">The script's arguments.</param>
    /// <param name="networkNamespace">Runs wrk inside this network namespace (<c>ip netns exec</c>), or null.</param>
    public async Task<WrkResult> RunAsync(Uri url, int seconds, int connections = 32, string? script = null, string? scriptArguments = null, string? networkNamespace = null)
    {
        var arguments = $"-t1 -c{connections} -d{seconds}s --latency {(script is null ? "" : $"-s {script} ")}{url}{(scriptArguments is null ? "" : $" -- {scriptArguments}")}";
        var start = networkNamespace is null
            ? new ProcessStartInfo(path, arguments)
            : new ProcessStartInfo("ip", $"netns exec {networkNamespace} {path} {arguments}");
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var rate = RequestsPerSecond().Match(output);
        var requests = RequestCount().Match(output);
        var p99 = Percentile99().Match(output);
        var p99Ms = !p99.Success ? double.NaN : double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture) * p99.Groups[2].Value switch { "us" => 0.001, "ms" => 1, _ => 1000 };
        return rate.Success && requests.Success
            ? new WrkResult(double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture), p99Ms)
            : throw new InvalidOperationException($"wrk printed no rate: {output}");
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"([0-9]+) requests in ")]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"\n\s*99%\s+([0-9.]+)(us|ms|s)")]
    private static partial Regex Percentile99();
}

/// <summary>What one wrk run measured.</summary>
internal sealed record WrkResult(double RequestsPerSecond, long Requests, double P99Ms);
