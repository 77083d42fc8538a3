using System.Net;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>Each option is read back with getsockopt on the server side of a real Kestrel connection.</summary>
public sealed class SocketOptionTests
{
    private static readonly Dictionary<string, string?> s_twoEndpoints = new()
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
        ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
        ["TcpTuning:Endpoints:Api:NoDelay"] = "false",
        ["TcpTuning:Endpoints:Api:SendBufferSize"] = "65536",
        ["TcpTuning:Endpoints:Api:ReceiveBufferSize"] = "131072",
        ["TcpTuning:Endpoints:Api:KeepAlive:Enabled"] = "true",
        ["TcpTuning:Endpoints:Api:KeepAlive:Idle"] = "00:00:30",
        ["TcpTuning:Endpoints:Api:KeepAlive:Interval"] = "00:00:05",
        ["TcpTuning:Endpoints:Api:KeepAlive:Count"] = "4",
        ["TcpTuning:Endpoints:Api:UserTimeout"] = "00:00:20",
        ["TcpTuning:Endpoints:Api:NotSentLowWatermark"] = "131072",
        ["TcpTuning:Endpoints:Api:TypeOfService"] = "40",
        ["TcpTuning:Endpoints:Api:CongestionControl"] = "reno",
        ["TcpTuning:Endpoints:Api:Linger"] = "00:00:07",
    };

    private static readonly Dictionary<string, string> s_expectedApi = new()
    {
        ["NoDelay"] = "False",
        // Linux doubles SO_SNDBUF and SO_RCVBUF for its own bookkeeping.
        ["SendBufferSize"] = "131072",
        ["ReceiveBufferSize"] = "262144",
        ["KeepAlive:Enabled"] = "True",
        ["KeepAlive:Idle"] = "30",
        ["KeepAlive:Interval"] = "5",
        ["KeepAlive:Count"] = "4",
        ["UserTimeout"] = "20000",
        ["NotSentLowWatermark"] = "131072",
        ["TypeOfService"] = "40",
        ["CongestionControl"] = "reno",
        ["Linger"] = "7",
    };

    [LinuxFact]
    public async Task NamedEndpoint_EveryOption_ReadsBackConfiguredValue()
    {
        await using var server = await TuningTestServer.StartAsync(s_twoEndpoints);

        var actual = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.2"));

        foreach (var (key, expected) in s_expectedApi)
        {
            Assert.True(actual[key] == expected, $"{key}: expected {expected}, got {actual[key]}");
        }
    }

    [LinuxFact]
    public async Task EndpointNotListed_KeepsWhatBareKestrelHas()
    {
        await using var bare = await TuningTestServer.StartAsync(new Dictionary<string, string?> { ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0" }, tune: false);
        var bareOptions = await TuningTestServer.GetSocketOptionsAsync(bare.AddressOn("127.0.0.3"));
        await bare.DisposeAsync();

        await using var server = await TuningTestServer.StartAsync(s_twoEndpoints);
        var plain = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.3"));
        var api = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.2"));

        Assert.Equal(bareOptions, plain);
        // Control: the tuned endpoint on the same server differs in every key, so equality above is not a blind spot.
        Assert.All(s_expectedApi.Keys, key => Assert.NotEqual(bareOptions[key], api[key]));
    }

    [LinuxFact]
    public async Task TcpConnectionInfo_ClientBytesReceived_MatchesServerBytesSent()
    {
        await using var server = await TuningTestServer.StartAsync(s_twoEndpoints);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = await Testing.WriteWriteReadClient.ConnectAsync(server.AddressOn("127.0.0.2"), cancellationToken: timeout.Token);

        // Two independent readings of one response: what the client's kernel received, what the server's kernel sent.
        Assert.Equal(200, (await client.GetAsync("/tcpinfo?full", timeout.Token)).StatusCode);
        Assert.True(TcpConnectionInfo.TryRead(client.Socket, out var clientInfo));
        var serverBytesSent = long.Parse(System.Text.Encoding.ASCII.GetString((await client.GetAsync("/tcpinfo?full", timeout.Token)).Body).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(clientInfo.BytesReceived > 0);
        Assert.Equal(serverBytesSent, clientInfo.BytesReceived);
        Assert.InRange(clientInfo.DataSegmentsIn, 1, 2);
    }

    [LinuxFact]
    public async Task NamedEndpoint_Feature_ReportsNameAndAppliedKeys()
    {
        await using var server = await TuningTestServer.StartAsync(s_twoEndpoints);

        var api = await TuningTestServer.GetFeatureAsync(server.AddressOn("127.0.0.2"));
        var plain = await TuningTestServer.GetFeatureAsync(server.AddressOn("127.0.0.3"));

        Assert.NotNull(api);
        Assert.Equal("Api", api.EndpointName);
        Assert.Equal(
            ["NoDelay", "SendBufferSize", "ReceiveBufferSize", "KeepAlive:Enabled", "KeepAlive:Idle", "KeepAlive:Interval", "KeepAlive:Count", "UserTimeout", "NotSentLowWatermark", "TypeOfService", "CongestionControl", "Linger"],
            api.AppliedOptions);
        Assert.Empty(api.FailedOptions);
        Assert.NotNull(plain);
        Assert.Equal("Plain", plain.EndpointName);
        Assert.Empty(plain.AppliedOptions);
    }

    [LinuxFact]
    public async Task EndpointSettings_OverrideDefaultsKeyByKey()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
            ["TcpTuning:Defaults:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Defaults:KeepAlive:Idle"] = "00:01:00",
            ["TcpTuning:Defaults:UserTimeout"] = "00:00:10",
            ["TcpTuning:Endpoints:Api:KeepAlive:Count"] = "3",
            ["TcpTuning:Endpoints:Api:UserTimeout"] = "00:00:02",
        };
        await using var server = await TuningTestServer.StartAsync(settings);

        var api = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.2"));
        var plain = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.3"));

        Assert.Equal(("True", "60", "3", "2000"), (api["KeepAlive:Enabled"], api["KeepAlive:Idle"], api["KeepAlive:Count"], api["UserTimeout"]));
        Assert.Equal(("True", "60", "10000"), (plain["KeepAlive:Enabled"], plain["KeepAlive:Idle"], plain["UserTimeout"]));
        Assert.NotEqual("3", plain["KeepAlive:Count"]);
    }

    [LinuxFact]
    public async Task HttpsEndpoint_OptionsAppliedBeneathTls()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Secure:Url"] = "https://127.0.0.4:0",
            ["TcpTuning:Endpoints:Secure:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Secure:KeepAlive:Idle"] = "00:00:45",
            ["TcpTuning:Endpoints:Secure:UserTimeout"] = "00:00:15",
            ["TcpTuning:Endpoints:Secure:CongestionControl"] = "reno",
        };
        await using var server = await TuningTestServer.StartAsync(settings);
        var address = server.AddressOn("127.0.0.4");

        var actual = await TuningTestServer.GetSocketOptionsAsync(address);

        Assert.Equal("https", address.Scheme);
        Assert.Equal(("True", "45", "15000", "reno"), (actual["KeepAlive:Enabled"], actual["KeepAlive:Idle"], actual["UserTimeout"], actual["CongestionControl"]));
    }

    [LinuxFact]
    public async Task CodeEndpoint_UseTcpTuning_AppliesItsOwnSettings()
    {
        await using var server = await TuningTestServer.StartAsync(
            new Dictionary<string, string?> { ["TcpTuning:Defaults:UserTimeout"] = "00:00:09" },
            builder => builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Parse("127.0.0.5"), 0, listen => listen.UseTcpTuning(profile =>
                {
                    profile.KeepAlive = new TcpKeepAliveOptions { Enabled = true, Idle = TimeSpan.FromSeconds(11), Count = 2 };
                    profile.TypeOfService = 0x20;
                }));
                kestrel.Listen(IPAddress.Parse("127.0.0.6"), 0);
            }));

        var tuned = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.5"));
        var untuned = await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.6"));

        Assert.Equal(("True", "11", "2", "32", "9000"), (tuned["KeepAlive:Enabled"], tuned["KeepAlive:Idle"], tuned["KeepAlive:Count"], tuned["TypeOfService"], tuned["UserTimeout"]));
        Assert.Equal(("False", "0", "9000"), (untuned["KeepAlive:Enabled"], untuned["TypeOfService"], untuned["UserTimeout"]));
    }

    [LinuxFact]
    public async Task LocalhostEndpoint_BothLoopbackAddressesGetTheSettings()
    {
        var port = FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Local:Url"] = $"http://localhost:{port}",
            ["TcpTuning:Endpoints:Local:UserTimeout"] = "00:00:03",
        };
        await using var server = await TuningTestServer.StartAsync(settings);

        var v4 = await TuningTestServer.GetSocketOptionsAsync(new Uri($"http://127.0.0.1:{port}"));

        Assert.Equal("3000", v4["UserTimeout"]);
        if (System.Net.Sockets.Socket.OSSupportsIPv6 && server.Addresses.Count > 1)
        {
            var v6 = await TuningTestServer.GetSocketOptionsAsync(new Uri($"http://[::1]:{port}"));
            Assert.Equal("3000", v6["UserTimeout"]);
        }
    }

    [LinuxFact]
    public async Task ListenSocket_DeferAcceptAndFastOpen_SetBeforeListen()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
            ["TcpTuning:Endpoints:Api:DeferAccept"] = "00:00:05",
            ["TcpTuning:Endpoints:Api:FastOpenQueueLength"] = "64",
        };
        await using var server = await TuningTestServer.StartAsync(settings);

        var api = server.ListenSockets.Single(s => ((IPEndPoint)s.LocalEndPoint!).Address.ToString() == "127.0.0.2");
        var plain = server.ListenSockets.Single(s => ((IPEndPoint)s.LocalEndPoint!).Address.ToString() == "127.0.0.3");

        // Linux stores TCP_DEFER_ACCEPT as a count of SYN-ACK retransmissions and reports it back rounded up.
        Assert.InRange(SocketOptionProbe.DeferAcceptSeconds(api), 5, 16);
        Assert.Equal(64, SocketOptionProbe.FastOpenQueueLength(api));
        Assert.Equal(0, SocketOptionProbe.DeferAcceptSeconds(plain));
        Assert.Equal(0, SocketOptionProbe.FastOpenQueueLength(plain));

        // With TCP_DEFER_ACCEPT the connection is accepted once the request arrives: requests still work.
        var report = await TuningTestServer.GetFeatureAsync(server.AddressOn("127.0.0.2"));
        Assert.Equal("Api", report?.EndpointName);
    }

    [LinuxFact]
    public async Task CongestionControl_SetOnTheListenSocket_SoConnectionsStartWithIt()
    {
        // An algorithm other than the host's default: set only on the accepted socket, it would replace one already started.
        var hostDefault = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim();
        var algorithm = hostDefault == "reno" ? "cubic" : "reno";
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
            ["TcpTuning:Endpoints:Api:CongestionControl"] = algorithm,
        };
        await using var server = await TuningTestServer.StartAsync(settings);

        var api = server.ListenSockets.Single(s => ((IPEndPoint)s.LocalEndPoint!).Address.ToString() == "127.0.0.2");
        var plain = server.ListenSockets.Single(s => ((IPEndPoint)s.LocalEndPoint!).Address.ToString() == "127.0.0.3");
        Assert.Equal((algorithm, hostDefault), (SocketOptionProbe.CongestionControl(api), SocketOptionProbe.CongestionControl(plain)));
        Assert.Equal(algorithm, (await TuningTestServer.GetSocketOptionsAsync(server.AddressOn("127.0.0.2")))["CongestionControl"]);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
