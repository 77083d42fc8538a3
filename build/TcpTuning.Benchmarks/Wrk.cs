using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpTuning.Benchmarks;

/// <summary>Runs wrk against one URL and reads its requests per second.</summary>
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

    public async Task<double> RunAsync(Uri url, int seconds, int connections = 32, string? script = null, string? scriptArguments = null)
    {
        var arguments = $"-t1 -c{connections} -d{seconds}s {(script is null ? "" : $"-s {script} ")}{url}{(scriptArguments is null ? "" : $" -- {scriptArguments}")}";
        using var process = Process.Start(new ProcessStartInfo(path, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var match = RequestsPerSecond().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"wrk printed no rate: {output}");
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();
}
