using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>The test kit's client on host names and over TLS: it still makes the stall, and Adaptive still removes it.</summary>
[Collection(SocketCountingTests.Name)]
public sealed class WriteWriteReadClientTests
{
    private const int Requests = 12;

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:SecureStall:Url"] = "https://127.0.0.2:0",
        ["Kestrel:Endpoints:SecureAdaptive:Url"] = "https://127.0.0.3:0",
        ["TcpTuning:Endpoints:SecureStall:QuickAck"] = "Default",
    };

    [LinuxFact]
    public async Task Localhost_ResolvesAndTriesEachAddress()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        var port = server.AddressOn("127.0.0.1").Port;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // localhost resolves to ::1 first, where nothing listens here: the client goes on to 127.0.0.1.
        using var client = await WriteWriteReadClient.ConnectAsync(new Uri($"http://localhost:{port}"), cancellationToken: timeout.Token);
        var (status, _) = await client.PostAsync("/echo", new byte[10], timeout.Token);

        Assert.Equal(200, status);
    }

    [LinuxFact]
    public async Task Https_NagleClientStallsOnDefault_NotOnAdaptive()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        System.Net.Security.RemoteCertificateValidationCallback trustTestCertificate =
            (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString();

        var stall = await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.2"), "/echo", Requests, certificateValidation: trustTestCertificate, cancellationToken: timeout.Token);
        var adaptive = await WriteWriteReadClient.MeasureAsync(server.AddressOn("127.0.0.3"), "/echo", Requests, certificateValidation: trustTestCertificate, cancellationToken: timeout.Token);

        Assert.True(stall.P50 >= TimeSpan.FromMilliseconds(30), $"control median {stall.P50.TotalMilliseconds} ms: no stall over TLS");
        Assert.True(adaptive.P50 < TimeSpan.FromMilliseconds(5), $"Adaptive median {adaptive.P50.TotalMilliseconds} ms");
    }
}
