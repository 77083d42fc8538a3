using System.Net.Sockets;
using System.Text;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// The stall detector on real sockets: a Nagle client that sends headers and body in two writes stalls on a
/// <c>QuickAck: Default</c> endpoint and is counted; the same client on <c>Adaptive</c> does not stall and is not
/// counted; clients that pause in their own code (between requests, or between headers and body) are not counted.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class DelayedAckStallTests
{
    private const int Requests = 30;
    private const string Plain = "127.0.0.2";
    private const string Adaptive = "127.0.0.3";

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Plain:Url"] = $"http://{Plain}:0",
        ["Kestrel:Endpoints:Quick:Url"] = $"http://{Adaptive}:0",
        ["TcpTuning:Endpoints:Plain:QuickAck"] = "Default",
        ["TcpTuning:Endpoints:Quick:QuickAck"] = "Adaptive",
    };

    [LinuxFact]
    public async Task NagleClient_OnQuickAckDefault_NinetyPercentOfStallsCounted_AndOneWarningNamesTheFix()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var stalls = Stalls(server);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var client = await WriteWriteReadClient.ConnectAsync(server.AddressOn(Plain), cancellationToken: timeout.Token);
        var stalled = 0;
        for (var i = 0; i < Requests; i++)
        {
            var (_, elapsed) = await client.PostAsync("/echo", new byte[50], timeout.Token);
            // A stall as the client sees it: the 40 ms timer, a tick or two late, and the response's way back.
            stalled += elapsed >= TimeSpan.FromMilliseconds(35) && elapsed < TimeSpan.FromMilliseconds(60) ? 1 : 0;
        }

        // The control: the client did stall (Linux quick-ACKs the first requests of a connection, which do not).
        Assert.True(stalled >= Requests / 2, $"{stalled} of {Requests} requests stalled: no stall to detect");
        var counted = Count(stalls, "Plain");
        Assert.True(counted >= 0.9 * stalled, $"{counted} counted of {stalled} stalled");
        var warning = Assert.Single(server.Logs.GetSnapshot(), r => r.Id.Name == "DelayedAckStalls");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("endpoint Plain", warning.Message, StringComparison.Ordinal);
        Assert.Contains("TcpTuning:Endpoints:Plain:QuickAck to Adaptive", warning.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task NagleClient_OnAdaptive_NotCounted()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var stalls = Stalls(server);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var latency = await WriteWriteReadClient.MeasureAsync(server.AddressOn(Adaptive), "/echo", Requests, skipFirst: false, cancellationToken: timeout.Token);

        Assert.True(latency.P50 < TimeSpan.FromMilliseconds(5), $"median {latency.P50.TotalMilliseconds} ms");
        Assert.Equal(0, Count(stalls, "Quick"));
        Assert.DoesNotContain(server.Logs.GetSnapshot(), r => r.Id.Name == "DelayedAckStalls");
    }

    [LinuxFact]
    public async Task ThinkTime_BetweenRequests_NotCounted()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var stalls = Stalls(server);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = await WriteWriteReadClient.ConnectAsync(server.AddressOn(Plain), singleSend: true, cancellationToken: timeout.Token);

        for (var i = 0; i < 10; i++)
        {
            await client.PostAsync("/echo", new byte[50], timeout.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
        }

        Assert.Equal(0, Count(stalls, "Plain"));
    }

    [LinuxFact]
    public async Task ThinkTime_BetweenHeadersAndBody_NotCounted()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var stalls = Stalls(server);
        using var socket = await SocketText.ConnectAsync(server.AddressOn(Plain));
        socket.NoDelay = false;

        for (var i = 0; i < 10; i++)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 50\r\n\r\n"), SocketFlags.None);
            // The client's own pause, longer than the server's ACK delay and the detector's window: the ACK came long before.
            await Task.Delay(TimeSpan.FromMilliseconds(80));
            await socket.SendAsync(new byte[50], SocketFlags.None);
            await SocketText.ReceiveUntilAsync(socket, "\r\n\r\n50", TimeSpan.FromSeconds(10));
        }

        Assert.Equal(0, Count(stalls, "Plain"));
    }

    private static MetricCollector<long> Stalls(TuningTestServer server)
        => new(server.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), TcpTuningMetrics.MeterName, "tcp_tuning.request.stall");

    private static long Count(MetricCollector<long> stalls, string endpoint)
        => stalls.GetMeasurementSnapshot().Where(m => Equals(m.Tags["tcp_tuning.endpoint"], endpoint)).Sum(m => m.Value);
}
