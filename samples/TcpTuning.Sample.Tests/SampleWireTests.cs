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
    public async Task Api_DoesNotStallANagleClient_Bulk_LeftToTheOsDoes()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var api = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Api"), "/echo", 20);
        var bulk = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Bulk"), "/echo", 20);

        // Bulk keeps QuickAck: Default, the control: the client pays the server's delayed ACK on every request.
        Assert.True(bulk.P50 >= TimeSpan.FromMilliseconds(30), $"Bulk median {bulk.P50.TotalMilliseconds} ms");
        Assert.True(api.P50 < TimeSpan.FromMilliseconds(5), $"Api median {api.P50.TotalMilliseconds} ms");
    }

    [LinuxFact]
    public async Task Api_KeepAliveIdle_IsSetOnTheServersSocket()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var api = await host.GetServerSocketOptionAsync(host.Endpoint("Api"), SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime);
        var bulk = await host.GetServerSocketOptionAsync(host.Endpoint("Bulk"), SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime);

        Assert.Equal(30, api);
        Assert.NotEqual(30, bulk); // the OS default
    }

    [LinuxFact]
    public async Task Report_LeavesInTheFewestSegments()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);

        var wire = await host.MeasureResponseAsync(host.Endpoint("Api"), "/report");

        Assert.Equal(1448, wire.SendMaximumSegmentSize);
        Assert.InRange(wire.DataSegmentsOut, wire.MinimumSegments, wire.MinimumSegments + 1);
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
