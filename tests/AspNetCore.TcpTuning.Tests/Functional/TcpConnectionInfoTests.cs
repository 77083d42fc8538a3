using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>TCP_INFO read on a real loopback connection after a known transfer: each field where the kernel put it.</summary>
public sealed class TcpConnectionInfoTests
{
    [LinuxFact]
    public async Task AfterOneMegabyteSent_FieldsAgreeWithTheTransfer()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();

        const int Total = 1024 * 1024;
        var send = server.SendAsync(new byte[Total]);
        var buffer = new byte[65536];
        for (var received = 0; received < Total;)
        {
            received += await client.ReceiveAsync(buffer);
        }

        await send;

        // The last ACK reaches the sender a moment after the data reached the receiver.
        TcpConnectionInfo info = default;
        for (var i = 0; i < 100 && info.BytesAcked < Total; i++)
        {
            Assert.True(TcpConnectionInfo.TryRead(server, out info));
            await Task.Delay(10);
        }

        Assert.InRange(info.BytesAcked, Total, info.BytesSent);
        // Bytes sent count retransmissions: a loaded machine can delay an ACK past the tail-loss probe even on loopback.
        Assert.InRange(info.BytesSent - Total, 0, info.TotalRetransmits * info.SendMaximumSegmentSize);
        Assert.Equal(info.TotalRetransmits == 0, info.BytesSent == Total);
        Assert.InRange(info.DataSegmentsOut, 1, Total);
        Assert.InRange(info.CongestionWindow, 10, 1_000_000);
        Assert.True(info.SlowStartThreshold > 0);
        Assert.InRange(info.MinRoundTripTime, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1));
        Assert.InRange(info.RoundTripTime, info.MinRoundTripTime, TimeSpan.FromSeconds(1));
        Assert.True(info.RoundTripTimeVariance < TimeSpan.FromSeconds(1));
        // Nothing is outstanding once everything was acknowledged.
        Assert.Equal((0L, 0L), (info.Retransmits, info.Lost));
        Assert.True(info.DeliveryRate > 0, "a delivery rate after a megabyte");
        Assert.True(info.PacingRate > 0, "a pacing rate after a megabyte");
        // The kernel keeps these times in jiffies: a fast loopback transfer may show none, never more limited than busy.
        Assert.InRange(info.BusyTime, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.True(info.ReceiveWindowLimitedTime <= info.BusyTime && info.SendBufferLimitedTime <= info.BusyTime);
    }

    [LinuxFact]
    public async Task Feature_OnHttpContext_ReadsTheConnectionLive()
    {
        var settings = new Dictionary<string, string?> { ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0" };
        await using var server = await TuningTestServer.StartAsync(settings, map: app => app.MapGet("/segments", (HttpContext context) =>
            context.Features.Get<ITcpInfoFeature>()!.TryRead(out var info) ? info.DataSegmentsOut.ToString(CultureInfo.InvariantCulture) : "none"));
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        var address = new Uri(server.AddressOn("127.0.0.2"), "/segments");

        // The same connection, read twice: the second read counts the first response's segments.
        var first = long.Parse(await client.GetStringAsync(address), CultureInfo.InvariantCulture);
        var second = long.Parse(await client.GetStringAsync(address), CultureInfo.InvariantCulture);

        Assert.True(second > first, $"data segments out: {first}, then {second}");
    }
}
