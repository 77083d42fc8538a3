using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>What a user configured is what the start-up log and the connection feature say, the whole profile.</summary>
public sealed class EffectiveProfileTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
        ["Kestrel:Endpoints:Bulk:Url"] = "http://127.0.0.3:0",
        ["TcpTuning:Endpoints:Bulk:Cork"] = "true",
        ["TcpTuning:Endpoints:Bulk:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:Bulk:QuickAck"] = "Default",
        ["TcpTuning:Endpoints:Bulk:NoDelay"] = "false",
    };

    [LinuxFact]
    public async Task StartupLog_NamesTheWholeProfilePerEndpoint()
    {
        // Api has no section of its own: the defaults, and the log says so.
        await using var server = await TuningTestServer.StartAsync(s_settings);

        var bound = server.Logs.GetSnapshot().Where(e => e.Id.Name == "EndpointBound").Select(e => e.Message).ToList();

        Assert.Contains(bound, m => m.StartsWith("Endpoint 127.0.0.2:", StringComparison.Ordinal)
            && m.Contains("uses the TCP settings of TcpTuning:Defaults: NoDelay True, QuickAck Adaptive, ResponseFlush MessageBoundary (FlushThreshold 65536, MaxFlushDelay 00:00:00.0050000, HonorExplicitFlush True), Cork False, DetectStalls True, listen socket [], accepted sockets [];", StringComparison.Ordinal));
        Assert.Contains(bound, m => m.StartsWith("Endpoint 127.0.0.3:", StringComparison.Ordinal)
            && m.Contains("uses the TCP settings of TcpTuning:Endpoints:Bulk: NoDelay False, QuickAck Default, ResponseFlush PerWrite, Cork True, DetectStalls True, listen socket [], accepted sockets [NoDelay=0];", StringComparison.Ordinal));
        Assert.All(server.Logs.GetSnapshot().Where(e => e.Id.Name == "EndpointBound"), e => Assert.Equal(LogLevel.Information, e.Level));
    }

    [LinuxFact]
    public async Task Feature_ExposesResponseFlushAndCork()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: app =>
            app.MapGet("/profile", (HttpContext context) => context.Features.Get<ITcpTuningFeature>() is { } feature ? $"{feature.ResponseFlush} {feature.Cork}" : "none"));
        using var client = new HttpClient();

        Assert.Equal("MessageBoundary False", await client.GetStringAsync(new Uri(server.AddressOn("127.0.0.2"), "/profile")));
        Assert.Equal("PerWrite True", await client.GetStringAsync(new Uri(server.AddressOn("127.0.0.3"), "/profile")));
    }
}
