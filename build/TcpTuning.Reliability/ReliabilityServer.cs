using System.Collections.Concurrent;
using AspNetCore.TcpTuning;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using TcpTuning.Reliability.Wire;

namespace TcpTuning.Reliability;

/// <summary>A server configuration under test, and its three addresses (HTTP/1.1, HTTPS/1.1, HTTP/2 over TLS).</summary>
internal sealed record Target(string Name, Uri Http, Uri Https, Uri Http2);

/// <summary>
/// Bare Kestrel and the tuned app, in one process, serving the same handlers: response scripts by seed, hold probes,
/// slow downloads. Each tuned configuration is a named endpoint on its own loopback address.
/// </summary>
internal sealed class ReliabilityServer : IAsyncDisposable
{
    // Each configuration listens on three consecutive loopback addresses from this one: HTTP/1.1, HTTPS, HTTP/2.
    private static readonly (string Name, int Address)[] s_bare = [("Bare", 20)];
    private static readonly (string Name, int Address)[] s_tuned = [("Boundary", 23), ("PerWrite", 26), ("CorkBoundary", 29), ("CorkPerWrite", 32)];

    public static readonly string[] TunedConfigurations = [.. s_tuned.Select(c => c.Name)];

    private readonly WebApplication _bare;
    private readonly WebApplication _tuned;

    private ReliabilityServer(WebApplication bare, WebApplication tuned, IReadOnlyList<Target> targets)
    {
        _bare = bare;
        _tuned = tuned;
        Targets = targets;
    }

    /// <summary>Write timestamps of the hold probes, by probe id and write index.</summary>
    public static ConcurrentDictionary<(string Id, int Write), long> WriteTimes { get; } = new();

    public IReadOnlyList<Target> Targets { get; }

    public Target Bare => Targets[0];

    public static async Task<ReliabilityServer> StartAsync()
    {
        var bare = Build(tuned: false, s_bare);
        var tuned = Build(tuned: true, s_tuned);
        await bare.StartAsync();
        await tuned.StartAsync();
        var targets = new List<Target>();
        targets.AddRange(TargetsOf(bare, s_bare));
        targets.AddRange(TargetsOf(tuned, s_tuned));
        return new ReliabilityServer(bare, tuned, targets);
    }

    public Target Get(string name) => Targets.Single(t => t.Name == name);

    private static IEnumerable<Target> TargetsOf(WebApplication app, (string Name, int Address)[] configurations)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        foreach (var (name, address) in configurations)
        {
            Uri On(int offset) => addresses.Single(a => a.Host == $"127.0.0.{address + offset}");
            yield return new Target(name, On(0), On(1), On(2));
        }
    }

    private static WebApplication Build(bool tuned, (string Name, int Address)[] configurations)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (name, address) in configurations)
        {
            settings[$"Kestrel:Endpoints:{name}:Url"] = $"http://127.0.0.{address}:0";
            settings[$"Kestrel:Endpoints:{name}:Protocols"] = "Http1";
            settings[$"Kestrel:Endpoints:{name}Tls:Url"] = $"https://127.0.0.{address + 1}:0";
            settings[$"Kestrel:Endpoints:{name}Tls:Protocols"] = "Http1";
            settings[$"Kestrel:Endpoints:{name}H2:Url"] = $"https://127.0.0.{address + 2}:0";
            settings[$"Kestrel:Endpoints:{name}H2:Protocols"] = "Http2";
            foreach (var suffix in new[] { "", "Tls", "H2" })
            {
                if (name is "PerWrite" or "CorkPerWrite")
                {
                    settings[$"TcpTuning:Endpoints:{name}{suffix}:ResponseFlush"] = "PerWrite";
                }

                if (name is "CorkBoundary" or "CorkPerWrite")
                {
                    settings[$"TcpTuning:Endpoints:{name}{suffix}:Cork"] = "true";
                }
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Configure(builder.Configuration.GetSection("Kestrel"));
            kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = TestCertificate.Instance);
        });
        if (tuned)
        {
            builder.WebHost.UseTcpTuning();
        }

        var app = builder.Build();
        Map(app);
        return app;
    }

    public static void Map(WebApplication app)
    {
        app.MapGet("/ok", () => "ok");
        app.MapMethods("/script", ["GET", "HEAD", "POST"], (HttpContext context, int seed) => ResponseScript.Generate(seed).RunAsync(context));
        app.MapGet("/hold", (HttpContext context, int seed, string id) => HoldProbe.Generate(seed).RunAsync(context, id));
        app.MapGet("/download", async (HttpContext context, int kib) =>
        {
            context.Response.ContentLength = kib * 1024L;
            var block = new byte[16 * 1024];
            Array.Fill(block, (byte)'d');
            for (var written = 0L; written < kib * 1024L; written += block.Length)
            {
                await context.Response.Body.WriteAsync(block, context.RequestAborted);
            }
        });
        // The cold HTTP/2 handler of the h2load scenario: 64 writes of 100 bytes with a yield between them.
        var piece = new byte[100];
        app.MapGet("/chatty-async", async (HttpContext context) =>
        {
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(piece);
                await Task.Yield();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _bare.StopAsync();
        await _tuned.StopAsync();
        await _bare.DisposeAsync();
        await _tuned.DisposeAsync();
    }
}
