using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace TcpTuning.Benchmarks;

/// <summary>A <see cref="BenchServer"/> child process, optionally with the LD_PRELOAD send counter.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly HttpClient s_client = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Process _process;

    private ServerProcess(Process process, IReadOnlyList<Uri> addresses)
    {
        _process = process;
        Addresses = addresses;
    }

    public IReadOnlyList<Uri> Addresses { get; }

    /// <param name="tuned">The tuned app, or bare Kestrel.</param>
    /// <param name="veth">Also listens on the veth pair's fixed ports.</param>
    /// <param name="sendCounter">The LD_PRELOAD send counter, or null.</param>
    /// <param name="environment">Extra environment variables (runtime settings), or null.</param>
    public static async Task<ServerProcess> StartAsync(bool tuned, bool veth, string? sendCounter, IReadOnlyDictionary<string, string>? environment = null)
    {
        var self = typeof(ServerProcess).Assembly.Location;
        var info = new ProcessStartInfo("dotnet", $"\"{self}\" serve {(tuned ? "tuned" : "bare")}{(veth ? " veth" : "")}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        if (sendCounter is not null)
        {
            info.Environment["LD_PRELOAD"] = sendCounter;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("The server process exited before listening.");
        return new ServerProcess(process, line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => new Uri(a)).ToList());
    }

    /// <summary>CPU time the server process has used so far (user and system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public Uri AddressOn(string host) => Addresses.Single(a => a.Host == host);

    public Uri AddressOnPort(int port) => Addresses.Single(a => a.Port == port);

    /// <summary>Send-family syscalls the server process made so far (-1 without the counter).</summary>
    public async Task<long> SendsAsync()
        => long.Parse(await s_client.GetStringAsync(new Uri(Addresses[0], "/__sends")), CultureInfo.InvariantCulture);

    /// <summary>Garbage collections by generation, the cork's corked responses and releases so far, open descriptors now.</summary>
    public async Task<ServerStats> StatsAsync()
    {
        var values = (await s_client.GetStringAsync(new Uri(Addresses[0], "/__stats"))).Split(' ').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new ServerStats(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);
    }

    /// <summary>The server's managed heap, in bytes, after full collections.</summary>
    public async Task<long> HeapAsync()
        => long.Parse(await s_client.GetStringAsync(new Uri(Addresses[0], "/__heap")), CultureInfo.InvariantCulture);

    /// <summary>The server's sampled allocations by type since the last call (with TCPTUNING_SAMPLE_ALLOCATIONS=1).</summary>
    public Task<string> AllocationsAsync() => s_client.GetStringAsync(new Uri(Addresses[0], "/__allocations"));

    /// <summary>Connection samples recorded since the last call.</summary>
    public async Task<List<ConnectionSample>> TakeConnectionsAsync()
        => (await s_client.GetFromJsonAsync<List<ConnectionSample>>(new Uri(Addresses[0], "/__connections")))!;

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}

/// <summary>A server process's counters at one moment.</summary>
internal sealed record ServerStats(long Gen0, long Gen1, long Gen2, long Corks, long BoundReleases, long FileDescriptors, long AbortReleases, long AllocatedBytes);
