using System.Net.Sockets;
using AspNetCore.TcpTuning.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TcpTuning.Sample.Tests;

/// <summary>
/// The sample's wire behaviour, tested as a user would test their own app: its two named endpoints on real sockets,
/// measured from the client and from the server's own socket.
/// </summary>
public sealed class SampleWireTests
{
    [LinuxFact]
    public async Task Api_DoesNotStallANagleClient_Bulk_LeftToTheOsDoes_AndTheDetectorSaysSo()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);
        using var metrics = host.CaptureMetrics();

        var api = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Api"), "/echo", 20);
        var bulk = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Bulk"), "/echo", 20);

        TcpTuningAssertions.AssertNoDelayedAckStall(api);
        Assert.Equal(0, metrics.Sum("tcp_tuning.request.stall", "Api"));
        // Bulk keeps QuickAck: Default, the control: the client pays the server's delayed ACK, and the server counts it.
        var stalled = Assert.Throws<TcpTuningAssertionException>(() => TcpTuningAssertions.AssertNoDelayedAckStall(bulk));
        Assert.Contains("QuickAck to Adaptive", stalled.Message, StringComparison.Ordinal);
        Assert.InRange(metrics.Sum("tcp_tuning.request.stall", "Bulk"), 15, 20);
    }

    [LinuxFact]
    public async Task Api_KeepAliveIdle_IsSetOnTheServersSocket()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var api = await host.GetServerSocketOptionAsync(host.Endpoint("Api"), SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime);
        var bulk = await host.GetServerSocketOptionAsync(host.Endpoint("Bulk"), SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime);

        TcpTuningAssertions.AssertSocketOption(api, 30, "TCP_KEEPIDLE");
        Assert.Throws<TcpTuningAssertionException>(() => TcpTuningAssertions.AssertSocketOption(bulk, 30, "TCP_KEEPIDLE")); // the OS default
    }

    [LinuxFact]
    public async Task Report_LeavesInTheFewestSegments()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var wire = await host.MeasureResponseAsync(host.Endpoint("Api"), "/report");

        Assert.Equal(1448, wire.SendMaximumSegmentSize);
        TcpTuningAssertions.AssertSegmentsAtMost(wire, wire.MinimumSegments + 1);
    }

    [Fact]
    public async Task Ticks_StreamEachPieceAsItIsWritten()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);
        using var client = await WriteWriteReadClient.ConnectAsync(host.Endpoint("Api"));

        var (status, arrivals) = await client.GetArrivalsAsync("/ticks");

        // Five ticks 200 ms apart, each its own read: the route's PerWrite keeps them streaming under MessageBoundary.
        Assert.Equal(200, status);
        Assert.True(arrivals.Count >= 5, $"{arrivals.Count} reads");
        Assert.True(arrivals[^1].Elapsed - arrivals[0].Elapsed >= TimeSpan.FromMilliseconds(600), $"{(arrivals[^1].Elapsed - arrivals[0].Elapsed).TotalMilliseconds} ms from first to last");
    }

    [Fact]
    public async Task PipelinedRequests_AnsweredInOrder()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);
        using var client = await WriteWriteReadClient.ConnectAsync(host.Endpoint("Api"));

        var responses = await client.GetPipelinedAsync(["/report", "/ticks", "/report"]);

        Assert.Equal([200, 200, 200], responses.Select(r => r.StatusCode));
        Assert.Equal(64 * 98, responses[0].Body.Length);
        Assert.StartsWith("tick 0", System.Text.Encoding.ASCII.GetString(responses[1].Body), StringComparison.Ordinal);
        Assert.Equal(responses[0].Body, responses[2].Body);
    }

    [Fact]
    public async Task Endpoint_UnknownName_SaysWhichExist()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var error = Assert.Throws<ArgumentException>(() => host.Endpoint("Apj"));

        Assert.Contains("'Apj'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Api, Bulk", error.Message, StringComparison.Ordinal);
    }
}
