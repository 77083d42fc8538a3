using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

public sealed class ConnectionResilienceTests
{
    [LinuxFact]
    public async Task SocketGoneBeforeOptionsApplied_NothingThrows_FailuresLoggedAndCounted()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        using var errors = new MetricCollector<long>(meterFactory, TcpTuningMetrics.MeterName, "tcp_tuning.socket_option.error");

        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        var tuner = new TcpConnectionTuner(new SocketOptionWriter(TcpPlatform.Current), new TcpTuningMetrics(meterFactory), loggerFactory.CreateLogger<TcpConnectionTuner>());
        var profile = EffectiveTcpProfile.Create(
            new TcpProfile { KeepAlive = new() { Enabled = true, Idle = TimeSpan.FromSeconds(30) }, CongestionControl = "reno" },
            overrides: null, "Api", "TcpTuning:Endpoints:Api", TcpPlatform.Current, transportNoDelay: true);

        // A real accepted socket whose peer reset it and which was then closed under us.
        using var listenSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listenSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listenSocket.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listenSocket.LocalEndPoint!);
        var accepted = await listenSocket.AcceptAsync();
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var localEndPoint = accepted.LocalEndPoint;
        accepted.Dispose();

        var connection = new DefaultConnectionContext("conn-1") { LocalEndPoint = localEndPoint };
        connection.Features.Set<IConnectionSocketFeature>(new SocketFeature(accepted));

        var exception = Record.Exception(() => tuner.OnAccepted(connection, profile));

        Assert.Null(exception);
        var feature = connection.Features.Get<ITcpTuningFeature>();
        Assert.NotNull(feature);
        Assert.Equal(["KeepAlive:Enabled", "KeepAlive:Idle", "CongestionControl"], feature.FailedOptions);
        Assert.Empty(feature.AppliedOptions);
        Assert.Equal(
            [(1L, "KeepAlive:Enabled", "ObjectDisposedException"), (1L, "KeepAlive:Idle", "ObjectDisposedException"), (1L, "CongestionControl", "ObjectDisposedException")],
            errors.GetMeasurementSnapshot().Select(m => (m.Value, (string)m.Tags["tcp_tuning.option"]!, (string)m.Tags["error.type"]!)));
        Assert.All(errors.GetMeasurementSnapshot(), m => Assert.Equal("Api", m.Tags["tcp_tuning.endpoint"]));
        var debug = logs.GetSnapshot().Where(e => e.Id.Name == "SocketOptionFailed").ToList();
        Assert.All(debug, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.Equal(
            "Setting TcpTuning:Endpoints:Api:KeepAlive:Enabled on connection conn-1 failed with ObjectDisposedException; the connection proceeds without it.",
            debug[0].Message);
    }

    [LinuxFact]
    public async Task PeersResettingRightAfterConnect_ServerKeepsServing()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["TcpTuning:Endpoints:Api:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Api:UserTimeout"] = "00:00:05",
            ["TcpTuning:Endpoints:Api:CongestionControl"] = "reno",
        };
        await using var server = await TuningTestServer.StartAsync(settings);
        var address = server.AddressOn("127.0.0.2");
        var before = server.Logs.Count;

        for (var i = 0; i < 50; i++)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
            client.LingerState = new LingerOption(true, 0);
        }

        // Let the server finish with the reset connections before looking at what it logged.
        await Task.Delay(200);
        var duringResets = server.Logs.GetSnapshot().Skip(before).ToList();
        var report = await TuningTestServer.GetFeatureAsync(address);

        Assert.Equal("Api", report?.EndpointName);
        Assert.Empty(report!.FailedOptions);

        // A setsockopt on a connection the peer already reset fails: that is logged at Debug only, as bare Kestrel
        // logs a reset (nothing at Information or above).
        Assert.DoesNotContain(duringResets, e => e.Level >= LogLevel.Information);
        Assert.All(duringResets.Where(e => e.Category?.StartsWith("AspNetCore.TcpTuning", StringComparison.Ordinal) == true), e => Assert.Equal(LogLevel.Debug, e.Level));
    }

    [LinuxFact]
    public async Task UnixSocketEndpoint_TcpOptionsSkipped_OneWarningEach()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tcptuning-{Guid.NewGuid():N}.sock");
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Local:Url"] = $"http://unix:{path}",
            ["TcpTuning:Endpoints:Local:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Local:Cork"] = "true",
        };
        await using var server = await TuningTestServer.StartAsync(settings);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });

        using var response = await client.GetAsync(new Uri("http://localhost/feature"));

        // Served as bare Kestrel serves it; each TCP-only key the endpoint sets is named once.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(
            [
                $"TcpTuning:Endpoints:Local:Cork applies to TCP endpoints only; the endpoint binds http://unix:{path}, so it is skipped (Strict makes this an error).",
                $"TcpTuning:Endpoints:Local:KeepAlive applies to TCP endpoints only; the endpoint binds http://unix:{path}, so it is skipped (Strict makes this an error).",
            ],
            server.Logs.GetSnapshot().Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).Order(StringComparer.Ordinal));
        File.Delete(path);
    }

    [LinuxFact]
    public async Task UnixSocketEndpoint_TcpOptionInStrictMode_FailsAtStart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tcptuning-{Guid.NewGuid():N}.sock");
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Local:Url"] = $"http://unix:{path}",
            ["TcpTuning:Strict"] = "true",
            ["TcpTuning:Endpoints:Local:Cork"] = "true",
        };

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TuningTestServer.StartAsync(settings));

        Assert.Equal([$"TcpTuning:Endpoints:Local:Cork applies to TCP endpoints only; Kestrel:Endpoints:Local:Url is http://unix:{path}."], error.Failures);
    }

    private sealed class SocketFeature(Socket socket) : IConnectionSocketFeature
    {
        public Socket Socket { get; } = socket;
    }
}
