using System.Net.Sockets;
using AspNetCore.TcpTuning.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using static AspNetCore.TcpTuning.Testing.TcpTuningAssertions;

namespace TcpTuning.Sample.Tests;

// The package README's and docs/testing.md's example, kept compiling and passing here.
public sealed class WireTests
{
    [LinuxFact]
    public async Task Api_DoesNotStall_SendsItsReportInTheFewestSegments_KeepsItsKeepAlive()
    {
        await using var factory = new WebApplicationFactory<Program>();
        await using var host = await TcpTuningTestHost.StartAsync(factory);   // each named endpoint on a free loopback port
        var api = host.Endpoint("Api");

        AssertNoDelayedAckStall(await WriteWriteReadClient.MeasureAsync(api, "/echo", 20));
        var wire = await host.MeasureResponseAsync(api, "/report");
        AssertSegmentsAtMost(wire, wire.MinimumSegments + 1);
        AssertSocketOption(await host.GetServerSocketOptionAsync(api, SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime), 30, "TCP_KEEPIDLE");
    }
}
