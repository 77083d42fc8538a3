using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>The test kit's host on an app whose factory the test configured first: an HTTPS endpoint added, its certificate kept.</summary>
[Collection(SocketCountingTests.Name)]
public sealed class TcpTuningTestHostTests
{
    [LinuxFact]
    public async Task HttpsEndpoint_KeepsItsSchemeAndCertificate_StallMeasuredOverTls()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kestrel:Endpoints:Secure:Url"] = "https://localhost:5443",
                ["TcpTuning:Endpoints:Secure:QuickAck"] = "Default",
            }));
            builder.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = TestCertificate.Instance));
        });
        await using var host = await TcpTuningTestHost.StartAsync(factory);
        System.Net.Security.RemoteCertificateValidationCallback trustTestCertificate =
            (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString();

        var secure = host.Endpoint("Secure");
        var stall = await WriteWriteReadClient.MeasureAsync(secure, "/echo", 12, certificateValidation: trustTestCertificate);
        var api = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Api"), "/echo", 12);

        Assert.Equal(Uri.UriSchemeHttps, secure.Scheme);
        Assert.Equal("127.0.0.1", secure.Host);
        Assert.NotEqual(5443, secure.Port);
        Assert.Equal(["Api", "Bulk", "Secure"], host.Endpoints.Keys.Order(StringComparer.Ordinal));
        Assert.Throws<TcpTuningAssertionException>(() => TcpTuningAssertions.AssertNoDelayedAckStall(stall));
        TcpTuningAssertions.AssertNoDelayedAckStall(api);
    }
}
