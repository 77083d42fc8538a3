using System.Net.Sockets;
using System.Runtime.InteropServices;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>Raw socket options from configuration, set in their phase and read back with getsockopt.</summary>
public sealed class RawOptionTests
{
    private const int SolSocket = 1;
    private const int SoPriority = 12;
    private const int SoRcvLowat = 18;
    private const int IpProtoTcp = 6;
    private const int TcpLinger2 = 8;

    [LinuxFact]
    public async Task RawOptions_SetInTheirPhase_ReadBack()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Level"] = "Tcp",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Name"] = "TCP_LINGER2",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Value"] = "7",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Level"] = "Socket",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Name"] = "12",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Bytes"] = "03000000",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Level"] = "Socket",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Name"] = "SO_RCVLOWAT",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Value"] = "2",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Phase"] = "Listen",
        };
        await using var server = await TuningTestServer.StartAsync(settings, map: app => app.MapGet("/raw", (HttpContext context) =>
        {
            var socket = context.Features.Get<IConnectionSocketFeature>()!.Socket;
            return $"{Read(socket, IpProtoTcp, TcpLinger2)} {Read(socket, SolSocket, SoPriority)}";
        }));
        using var client = new HttpClient();

        // Accepted-phase options on the endpoint's connections, and only there (the control endpoint keeps the kernel's).
        Assert.Equal("7 3", await client.GetStringAsync(new Uri(server.AddressOn("127.0.0.2"), "/raw")));
        Assert.NotEqual("7 3", await client.GetStringAsync(new Uri(server.AddressOn("127.0.0.3"), "/raw")));

        // The listen-phase option on the endpoint's listen socket only.
        var lowats = server.ListenSockets.Select(s => (Port: ((System.Net.IPEndPoint)s.LocalEndPoint!).Address.ToString(), Lowat: Read(s, SolSocket, SoRcvLowat))).OrderBy(p => p.Port).ToList();
        Assert.Equal([("127.0.0.2", 2), ("127.0.0.3", 1)], lowats);
    }

    [Fact]
    public async Task RawOptions_BadShapes_FailAtStartNamingTheKey()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Level"] = "Tcpp",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Name"] = "TCP_MAXSEG",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Value"] = "1200",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Level"] = "Tcp",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Name"] = "TCP_NOSUCH",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Value"] = "1",
            ["TcpTuning:Endpoints:Api:RawOptions:1:Bytes"] = "01",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Level"] = "Tcp",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Name"] = "2",
            ["TcpTuning:Endpoints:Api:RawOptions:2:Bytes"] = "0x1",
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TuningTestServer.StartAsync(settings));

        Assert.Contains("TcpTuning:Endpoints:Api:RawOptions:0:Level has the value 'Tcpp', which is not Tcp, Socket, IP, IPv6, or a number from 0 to 65535.", error.Failures);
        Assert.Contains(error.Failures, f => f.StartsWith("TcpTuning:Endpoints:Api:RawOptions:1:Name 'TCP_NOSUCH' is not an option of level Tcp known on ", StringComparison.Ordinal));
        Assert.Contains("TcpTuning:Endpoints:Api:RawOptions:1 needs exactly one of Value (a 32-bit integer) and Bytes (hexadecimal).", error.Failures);
        Assert.Contains("TcpTuning:Endpoints:Api:RawOptions:2:Bytes must be 1 to 256 bytes in hexadecimal, two digits a byte.", error.Failures);
    }

    [LinuxTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ListenOptionTheKernelRefuses_WarningOrStrictFailure(bool strict)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
            ["TcpTuning:Strict"] = strict ? "true" : "false",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Level"] = "Tcp",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Name"] = "9999",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Value"] = "1",
            ["TcpTuning:Endpoints:Api:RawOptions:0:Phase"] = "Listen",
        };

        if (strict)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => TuningTestServer.StartAsync(settings));
            Assert.Contains("Setting TcpTuning:Endpoints:Api:RawOptions:0 on the listen socket 127.0.0.2:0 failed with", error.ToString(), StringComparison.Ordinal);
            return;
        }

        await using var server = await TuningTestServer.StartAsync(settings);
        var warning = Assert.Single(server.Logs.GetSnapshot(), e => e.Id.Name == "ListenSocketOptionFailed");
        Assert.StartsWith("Setting TcpTuning:Endpoints:Api:RawOptions:0 on the listen socket 127.0.0.2:0 failed with", warning.Message, StringComparison.Ordinal);
    }

    private static int Read(Socket socket, int level, int name)
    {
        Span<byte> value = stackalloc byte[4];
        socket.GetRawSocketOption(level, name, value);
        return MemoryMarshal.Read<int>(value);
    }
}
