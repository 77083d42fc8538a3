using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>
/// A real Kestrel on loopback with in-memory configuration. Named endpoints get distinct loopback addresses
/// (127.0.0.x, port 0) so each is matched to its own settings.
/// </summary>
public sealed class TuningTestServer : IAsyncDisposable
{
    private TuningTestServer(WebApplication app, FakeLogCollector logs, ConcurrentQueue<Socket> listenSockets)
    {
        App = app;
        Logs = logs;
        ListenSockets = listenSockets;
    }

    public WebApplication App { get; }

    /// <summary>Every log line, Debug and up.</summary>
    public FakeLogCollector Logs { get; }

    /// <summary>Every listen socket Kestrel created, captured through the app's own CreateBoundListenSocket hook.</summary>
    public ConcurrentQueue<Socket> ListenSockets { get; }

    /// <summary>QuickAck re-arms per connection, as the feature reported them at the end of the last /echo request.</summary>
    public ConcurrentDictionary<string, long> QuickAckRearms { get; } = new();

    public IReadOnlyList<Uri> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();

    public static WebApplicationBuilder CreateBuilder(IDictionary<string, string?> settings, FakeLogCollector logs, ConcurrentQueue<Socket> listenSockets)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = TestCertificate.Instance));
        builder.Services.Configure<SocketTransportOptions>(transport =>
        {
            var create = transport.CreateBoundListenSocket;
            transport.CreateBoundListenSocket = endPoint =>
            {
                var socket = create(endPoint);
                listenSockets.Enqueue(socket);
                return socket;
            };
        });
        return builder;
    }

    public static async Task<TuningTestServer> StartAsync(IDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null, bool tune = true, Action<WebApplication>? map = null)
    {
        var logs = new FakeLogCollector();
        var listenSockets = new ConcurrentQueue<Socket>();
        var builder = CreateBuilder(settings, logs, listenSockets);
        if (tune)
        {
            builder.WebHost.UseTcpTuning();
        }

        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapGet("/sockopt", (HttpContext context) => SocketOptionProbe.Read(context.Features.Get<IConnectionSocketFeature>()!.Socket));
        app.MapGet("/feature", (HttpContext context) => context.Features.Get<ITcpTuningFeature>() is { } feature
            ? Results.Ok(new TuningReport(feature.EndpointName, feature.AppliedOptions, feature.SkippedOptions, feature.FailedOptions))
            : Results.NotFound());
        var server = new TuningTestServer(app, logs, listenSockets);
        map?.Invoke(app);
        app.MapGet("/tcpinfo", (HttpContext context) => TcpConnectionInfo.TryRead(context.Features.Get<IConnectionSocketFeature>()!.Socket, out var info)
            ? Results.Text(context.Request.Query.ContainsKey("full")
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{info.DataSegmentsOut} {info.BytesSent} {info.SendMaximumSegmentSize} {info.TotalRetransmits}")
                : info.DataSegmentsOut.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : Results.NotFound());
        app.MapPost("/echo", async (HttpContext context) =>
        {
            // Reads the whole body, as handlers of small POSTs do, so the request is complete before the response.
            var length = 0L;
            var buffer = new byte[4096];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                length += read;
            }

            server.QuickAckRearms[context.Connection.Id] = context.Features.Get<ITcpTuningFeature>()?.QuickAckRearms ?? 0;
            return Results.Text(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        await app.StartAsync();
        return server;
    }

    public Uri AddressOn(string host) => Addresses.Single(a => a.Host == host);

    public static async Task<Dictionary<string, string>> GetSocketOptionsAsync(Uri baseAddress)
    {
        using var client = CreateClient();
        return (await client.GetFromJsonAsync<Dictionary<string, string>>(new Uri(baseAddress, "/sockopt")))!;
    }

    public static async Task<TuningReport?> GetFeatureAsync(Uri baseAddress)
    {
        using var client = CreateClient();
        using var response = await client.GetAsync(new Uri(baseAddress, "/feature"));
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<TuningReport>() : null;
    }

    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString() },
        PooledConnectionLifetime = TimeSpan.Zero,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public sealed record TuningReport(string? EndpointName, IReadOnlyList<string> AppliedOptions, IReadOnlyList<string> SkippedOptions, IReadOnlyList<string> FailedOptions);
