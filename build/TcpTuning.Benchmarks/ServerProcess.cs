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

    public static async Task<ServerProcess> StartAsync(bool tuned, bool veth, string? sendCounter)
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

        var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("The server process exited before listening.");
        return new ServerProcess(process, line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => new Uri(a)).ToList());
    }

    public Uri AddressOn(string host) => Addresses.Single(a => a.Host == host);

    public Uri AddressOnPort(int port) => Addresses.Single(a => a.Port == port);

    /// <summary>Send-family syscalls the server process made so far (-1 without the counter).</summary>
    public async Task<long> SendsAsync()
        => long.Parse(await s_client.GetStringAsync(new Uri(Addresses[0], "/__sends")), CultureInfo.InvariantCulture);

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
