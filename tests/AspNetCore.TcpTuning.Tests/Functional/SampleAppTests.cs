using System.Net.Http.Json;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>The sample, started with WebApplicationFactory on real Kestrel sockets, keeps its two named endpoints.</summary>
public sealed class SampleAppTests
{
    [LinuxFact]
    public async Task Sample_BothNamedEndpoints_ServeWithTheirSettings()
    {
        await using var factory = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(builder => builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                // Same endpoints as appsettings.json, moved to free ports on their own loopback addresses.
                ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.7:0",
                ["Kestrel:Endpoints:Bulk:Url"] = "http://127.0.0.8:0",
            })));
        factory.UseKestrel(_ => { });
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        using var client = TuningTestServer.CreateClient();

        var api = await client.GetFromJsonAsync<SampleReport>(addresses.Single(a => a.Host == "127.0.0.7"));
        var bulk = await client.GetFromJsonAsync<SampleReport>(addresses.Single(a => a.Host == "127.0.0.8"));

        Assert.Equal("Api", api!.Endpoint);
        Assert.Equal(["KeepAlive:Enabled", "KeepAlive:Idle", "KeepAlive:Interval", "KeepAlive:Count", "UserTimeout"], api.Applied);
        Assert.Equal("Bulk", bulk!.Endpoint);
        Assert.Equal(["SendBufferSize", "ReceiveBufferSize", "NotSentLowWatermark", "CongestionControl"], bulk.Applied);
    }

    private sealed record SampleReport(string Endpoint, string[] Applied, string[] Skipped, string[] Failed);
}
