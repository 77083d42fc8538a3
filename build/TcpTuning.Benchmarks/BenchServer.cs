using System.Collections.Concurrent;
using System.Net;
using AspNetCore.TcpTuning;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace TcpTuning.Benchmarks;

/// <summary>What the server saw of one connection: TCP_INFO and QuickAck re-arms at the first and last /echo request.</summary>
internal sealed record ConnectionSample(long Requests, long FirstSegmentsOut, long LastSegmentsOut, long FirstRearms, long LastRearms);

/// <summary>
/// One Kestrel app on loopback: bare (no UseTcpTuning) or tuned with one named endpoint per QuickAck mode, each on its
/// own 127.0.0.x address. Both serve /plaintext and /echo (reads the body, records TCP_INFO per connection).
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchServer(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, ConnectionSample> Connections { get; } = new();

    public IReadOnlyList<Uri> Addresses => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();

    public static async Task<BenchServer> StartAsync(IReadOnlyDictionary<string, string?> settings, bool tune)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Configure(builder.Configuration.GetSection("Kestrel")));
        if (tune)
        {
            builder.WebHost.UseTcpTuning();
        }

        var app = builder.Build();
        var server = new BenchServer(app);
        app.MapGet("/plaintext", () => Results.Text("Hello, World!"));
        app.MapPost("/echo", async (HttpContext context) =>
        {
            var length = 0L;
            var buffer = new byte[4096];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                length += read;
            }

            server.Record(context);
            return Results.Text(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        await app.StartAsync();
        return server;
    }

    public Uri AddressOn(string host) => Addresses.Single(a => a.Host == host);

    private void Record(HttpContext context)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || !TcpConnectionInfo.TryRead(socket, out var info))
        {
            return;
        }

        var rearms = context.Features.Get<ITcpTuningFeature>()?.QuickAckRearms ?? 0;
        Connections.AddOrUpdate(
            context.Connection.Id,
            _ => new ConnectionSample(1, info.SegmentsOut, info.SegmentsOut, rearms, rearms),
            (_, s) => s with { Requests = s.Requests + 1, LastSegmentsOut = info.SegmentsOut, LastRearms = rearms });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
