using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// A client with Nagle's algorithm on sends headers and body in two writes, then waits: each request from the second
/// on stalls for the server's delayed ACK (40 ms on Linux) unless the server quick-ACKs. Control and fix side by side.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class QuickAckTests
{
    private const int Requests = 12;

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Stall:Url"] = "http://127.0.0.2:0",
        ["Kestrel:Endpoints:Adaptive:Url"] = "http://127.0.0.3:0",
        ["Kestrel:Endpoints:EachRead:Url"] = "http://127.0.0.4:0",
        ["TcpTuning:Endpoints:Stall:QuickAck"] = "Default",
        ["TcpTuning:Endpoints:EachRead:QuickAck"] = "AfterEachRead",
    };

    [LinuxFact]
    public async Task NagleClient_QuickAckDefaultStalls_AdaptiveDoesNot()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var stall = await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.2"), "/echo", Requests, cancellationToken: timeout.Token);
        var adaptive = await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.3"), "/echo", Requests, cancellationToken: timeout.Token);

        // Wide margins only: the control must show the delayed-ACK stall, the fix must not.
        Assert.True(stall.P50 >= TimeSpan.FromMilliseconds(30), $"control median {stall.P50.TotalMilliseconds} ms: the harness did not see the stall");
        Assert.True(adaptive.P50 < TimeSpan.FromMilliseconds(5), $"Adaptive median {adaptive.P50.TotalMilliseconds} ms");
    }

    [LinuxFact]
    public async Task NagleClient_AfterEachRead_NoStall()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var eachRead = await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.4"), "/echo", Requests, cancellationToken: timeout.Token);

        Assert.True(eachRead.P50 < TimeSpan.FromMilliseconds(5), $"AfterEachRead median {eachRead.P50.TotalMilliseconds} ms");
    }

    [LinuxFact]
    public async Task Adaptive_RequestsArrivingWhole_NoRearm_SplitRequestsRearm()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var adaptive = server.AddressOn("127.0.0.3");

        await WriteWriteReadClient.MeasureAsync(adaptive, "/echo", 50, singleSend: true, cancellationToken: timeout.Token);
        var whole = Assert.Single(server.QuickAckRearms).Value;
        server.QuickAckRearms.Clear();
        await WriteWriteReadClient.MeasureAsync(adaptive, "/echo", Requests, cancellationToken: timeout.Token);
        var split = Assert.Single(server.QuickAckRearms).Value;

        Assert.Equal(0, whole);
        // Request 1 arrives while Linux is still in quick-ACK mode; each later one waits for its body once.
        Assert.InRange(split, Requests - 1, 2 * Requests);
    }

    [LinuxFact]
    public async Task AfterEachRead_RearmsOnEveryRead()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.4"), "/echo", Requests, singleSend: true, cancellationToken: timeout.Token);

        Assert.True(Assert.Single(server.QuickAckRearms).Value >= Requests);
    }
}
