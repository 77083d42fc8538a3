using System.Net;
using System.Net.Http.Json;
using AspNetCore.TcpTuning.Tests.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// Named endpoints that all bind 127.0.0.1 with port 0, the usual integration-test setup, each get their own settings.
/// Each endpoint is told apart by what Kestrel itself serves on it (HTTP/1.1, HTTP/2 with prior knowledge, TLS), not
/// by anything of the library's, and its settings are read back with getsockopt on its own connections.
/// </summary>
public sealed class SameAddressEndpointTests
{
    [LinuxFact]
    public async Task ThreeNamedEndpointsOnTheSameAddressAtPortZero_EachGetsItsOwnSettings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Alpha:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Alpha:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Beta:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Beta:Protocols"] = "Http2",
            ["Kestrel:Endpoints:Gamma:Url"] = "https://127.0.0.1:0",
            ["TcpTuning:Endpoints:Alpha:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Alpha:KeepAlive:Idle"] = "00:00:31",
            ["TcpTuning:Endpoints:Beta:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Beta:KeepAlive:Idle"] = "00:00:32",
            ["TcpTuning:Endpoints:Gamma:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Gamma:KeepAlive:Idle"] = "00:00:33",
        };
        await using var server = await TuningTestServer.StartAsync(settings);

        var idleByProtocol = new Dictionary<string, string>();
        foreach (var address in server.Addresses)
        {
            var (protocol, options) = await ProbeAsync(address);
            idleByProtocol[protocol] = options["KeepAlive:Idle"];
        }

        Assert.Equal(
            new Dictionary<string, string> { ["http/1.1"] = "31", ["h2c"] = "32", ["https"] = "33" },
            idleByProtocol);
        Assert.DoesNotContain(server.Logs.GetSnapshot(), e => e.Id.Name == "AmbiguousEndpoint");
    }

    // What Kestrel serves on the address decides which endpoint it is.
    private static async Task<(string Protocol, Dictionary<string, string> Options)> ProbeAsync(Uri address)
    {
        if (address.Scheme == Uri.UriSchemeHttps)
        {
            using var tls = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString() },
            });
            return ("https", (await tls.GetFromJsonAsync<Dictionary<string, string>>(new Uri(address, "/sockopt")))!);
        }

        using var client = new HttpClient();
        using var h2 = new HttpRequestMessage(HttpMethod.Get, new Uri(address, "/sockopt")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        try
        {
            using var response = await client.SendAsync(h2);
            return ("h2c", (await response.Content.ReadFromJsonAsync<Dictionary<string, string>>())!);
        }
        catch (HttpRequestException)
        {
            // Not HTTP/2 with prior knowledge: the HTTP/1.1-only endpoint.
            return ("http/1.1", (await client.GetFromJsonAsync<Dictionary<string, string>>(new Uri(address, "/sockopt")))!);
        }
    }
}
