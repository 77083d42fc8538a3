using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpTuning.Reliability;

/// <summary>One h2load run against a fresh (cold) or already-run (warm) server process.</summary>
internal sealed record Http2LoadResult(string Configuration, string Phase, double RequestsPerSecond, int Succeeded, int Failed, int Errored, double MaxRequestMs);

/// <summary>
/// HTTP/2 on a cold process: <c>h2load -n 4000 -c 20 -m 32</c> against a handler that writes 64 x 100 B with a yield
/// between writes, in a fresh server process per configuration (cold), then once more in the same process (warm).
/// </summary>
internal static partial class ColdHttp2Run
{
    public static bool Available => File.Exists("/usr/bin/h2load");

    public static async Task<List<Http2LoadResult>> RunAsync(int rounds)
    {
        var results = new List<Http2LoadResult>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var configuration in new[] { "PerWrite", "Boundary" })
            {
                using var process = StartServer(configuration, out var address);
                try
                {
                    results.Add(await LoadAsync(configuration, "cold", address));
                    results.Add(await LoadAsync(configuration, "warm", address));
                }
                finally
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }

        return results;
    }

    /// <summary>The child process: one plain-text HTTP/2 endpoint (prior knowledge) with the given flush mode.</summary>
    public static async Task<int> ServeAsync(string configuration)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:H2:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:H2:Protocols"] = "Http2",
            ["TcpTuning:Endpoints:H2:ResponseFlush"] = configuration == "PerWrite" ? "PerWrite" : "MessageBoundary",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Configure(builder.Configuration.GetSection("Kestrel")));
        builder.WebHost.UseTcpTuning();
        var app = builder.Build();
        ReliabilityServer.Map(app);
        await app.StartAsync();
        Console.WriteLine(app.Urls.First());
        await Console.In.ReadLineAsync();
        await app.StopAsync();
        return 0;
    }

    private static Process StartServer(string configuration, out Uri address)
    {
        var self = typeof(ColdHttp2Run).Assembly.Location;
        var info = new ProcessStartInfo("dotnet", $"\"{self}\" serve-h2 {configuration}") { RedirectStandardInput = true, RedirectStandardOutput = true };
        var process = Process.Start(info)!;
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the server process exited before listening");
        address = new Uri(line);
        return process;
    }

    private static async Task<Http2LoadResult> LoadAsync(string configuration, string phase, Uri address)
    {
        var info = new ProcessStartInfo("h2load", $"-n 4000 -c 20 -m 32 -T 30 -N 30 {new Uri(address, "/chatty-async")}") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var h2load = Process.Start(info)!;
        var output = await h2load.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await h2load.WaitForExitAsync(timeout.Token);
        var rate = Number(Rate().Match(output));
        var requests = Requests().Match(output);
        var maxMs = TimeForRequest().Match(output) is { Success: true } t ? Milliseconds(t.Groups[1].Value) : double.NaN;
        return new Http2LoadResult(configuration, phase, rate,
            requests.Success ? int.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            requests.Success ? int.Parse(requests.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            requests.Success ? int.Parse(requests.Groups[3].Value, CultureInfo.InvariantCulture) : 0,
            maxMs);
    }

    private static double Number(Match match) => match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;

    private static double Milliseconds(string value)
        => value.EndsWith("us", StringComparison.Ordinal) ? double.Parse(value[..^2], CultureInfo.InvariantCulture) / 1000
            : value.EndsWith("ms", StringComparison.Ordinal) ? double.Parse(value[..^2], CultureInfo.InvariantCulture)
            : double.Parse(value[..^1], CultureInfo.InvariantCulture) * 1000;

    [GeneratedRegex(@"finished in [^,]+, ([\d.]+) req/s")]
    private static partial Regex Rate();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored")]
    private static partial Regex Requests();

    [GeneratedRegex(@"time for request:\s+\S+\s+(\S+)")]
    private static partial Regex TimeForRequest();
}
