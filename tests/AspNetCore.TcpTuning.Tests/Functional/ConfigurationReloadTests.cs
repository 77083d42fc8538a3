using System.Net.Http.Json;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// appsettings.json changes while the app runs: new connections get the new settings, connections accepted before
/// keep theirs, and an invalid change keeps the last valid settings with one error naming every bad key.
/// </summary>
public sealed class ConfigurationReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tcptuning-reload-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [LinuxFact]
    public async Task ValidChange_NewConnectionsGetIt_OldOnesKeepTheirs()
    {
        await using var app = await StartAsync(idle: "00:00:31", flush: "MessageBoundary");
        var address = new Uri(app.Urls.Single());
        using var before = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        Assert.Equal("31 MessageBoundary", await before.GetStringAsync(new Uri(address, "/profile")));

        await ChangeAsync(app, idle: "00:00:32", flush: "PerWrite");

        using var after = new HttpClient();
        Assert.Equal("32 PerWrite", await after.GetStringAsync(new Uri(address, "/profile")));
        Assert.Equal("31 MessageBoundary", await before.GetStringAsync(new Uri(address, "/profile")));
        var changed = Logs(app).Where(e => e.Id.Name == "EndpointProfileChanged").Select(e => e.Message).ToList();
        Assert.Contains(changed, m => m.StartsWith("TcpTuning settings reloaded: new connections of Api get NoDelay True, QuickAck Adaptive, ResponseFlush PerWrite,", StringComparison.Ordinal) && m.Contains("KeepAlive:Idle=32", StringComparison.Ordinal));
    }

    [LinuxFact]
    public async Task InvalidChange_LastValidSettingsKept_OneErrorNamingEveryBadKey()
    {
        await using var app = await StartAsync(idle: "00:00:31", flush: "MessageBoundary");
        var address = new Uri(app.Urls.Single());

        await ChangeAsync(app, idle: "soon", flush: "Sometimes");

        using var client = new HttpClient();
        Assert.Equal("31 MessageBoundary", await client.GetStringAsync(new Uri(address, "/profile")));
        var error = Assert.Single(Logs(app), e => e.Level >= LogLevel.Error);
        Assert.Equal("ReloadRejected", error.Id.Name);
        Assert.Contains("TcpTuning:Endpoints:Api:KeepAlive:Idle has the value 'soon'", error.Message, StringComparison.Ordinal);
        Assert.Contains("TcpTuning:Endpoints:Api:ResponseFlush has the value 'Sometimes'", error.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task EndpointKestrelRebinds_NewListenSocketGetsTheNewListenOptions()
    {
        var listenSockets = new System.Collections.Concurrent.ConcurrentQueue<System.Net.Sockets.Socket>();
        await using var app = await StartAsync(idle: "00:00:31", flush: "MessageBoundary", deferAccept: "00:00:05", listenSockets: listenSockets);
        Assert.Equal(5, DeferAccept(listenSockets.Single()));

        // Kestrel rebinds the endpoint whose URL changed; the new listen socket is made with the new settings.
        await ChangeAsync(app, idle: "00:00:31", flush: "MessageBoundary", deferAccept: "00:00:09", host: "127.0.0.3");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (listenSockets.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(2, listenSockets.Count);
        Assert.Equal(9, DeferAccept(listenSockets.Last()));

        static int DeferAccept(System.Net.Sockets.Socket socket)
        {
            // TCP_DEFER_ACCEPT reads back rounded to the retransmission schedule: 5 s and 9 s stay apart.
            Span<byte> value = stackalloc byte[4];
            socket.GetRawSocketOption(6, 9, value);
            var seconds = System.Runtime.InteropServices.MemoryMarshal.Read<int>(value);
            return seconds <= 7 ? 5 : 9;
        }
    }

    private static IReadOnlyList<FakeLogRecord> Logs(WebApplication app) => ((FakeLogCollector)app.Services.GetService(typeof(FakeLogCollector))!).GetSnapshot();

    private async Task<WebApplication> StartAsync(string idle, string flush, string deferAccept = "00:00:01", System.Collections.Concurrent.ConcurrentQueue<System.Net.Sockets.Socket>? listenSockets = null)
    {
        await WriteAsync(idle, flush, deferAccept, "127.0.0.2");
        var logs = new FakeLogCollector();
        var builder = TuningTestServer.CreateBuilder(new Dictionary<string, string?>(), logs, listenSockets ?? new());
        builder.Configuration.AddJsonFile(Path.Combine(_directory, "appsettings.json"), optional: false, reloadOnChange: false);
        builder.Services.AddSingleton(logs);
        builder.WebHost.UseTcpTuning();
        var app = builder.Build();
        app.MapGet("/profile", (HttpContext context) =>
        {
            var socket = context.Features.Get<IConnectionSocketFeature>()!.Socket;
            var idleSeconds = (int)socket.GetSocketOption(System.Net.Sockets.SocketOptionLevel.Tcp, System.Net.Sockets.SocketOptionName.TcpKeepAliveTime)!;
            return $"{idleSeconds} {context.Features.Get<ITcpTuningFeature>()!.ResponseFlush}";
        });
        await app.StartAsync();
        return app;
    }

    // Rewrites the file and reloads the configuration, as its file watcher would.
    private async Task ChangeAsync(WebApplication app, string idle, string flush, string deferAccept = "00:00:01", string host = "127.0.0.2")
    {
        await WriteAsync(idle, flush, deferAccept, host);
        ((IConfigurationRoot)app.Configuration).Reload();
    }

    private Task WriteAsync(string idle, string flush, string deferAccept, string host) => File.WriteAllTextAsync(Path.Combine(_directory, "appsettings.json"), $$"""
        {
          "Kestrel": { "Endpoints": { "Api": { "Url": "http://{{host}}:0" } } },
          "TcpTuning": {
            "Endpoints": {
              "Api": { "ResponseFlush": "{{flush}}", "DeferAccept": "{{deferAccept}}", "KeepAlive": { "Enabled": true, "Idle": "{{idle}}" } }
            }
          }
        }
        """);
}
