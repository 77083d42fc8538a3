using System.Diagnostics.Metrics;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// <c>tcp_tuning.response.flush</c> says why held bytes left, one reason per shape of handler, with the bytes held;
/// a <c>PerWrite</c> endpoint holds nothing and counts nothing.
/// </summary>
public sealed class ResponseFlushMetricsTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
        ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.3:0",
        ["Kestrel:Endpoints:Timed:Url"] = "http://127.0.0.4:0",
        ["TcpTuning:Endpoints:Api:ResponseFlush"] = "MessageBoundary",
        ["TcpTuning:Endpoints:Api:FlushThreshold"] = "16384",
        // Only the delay's own case waits for the timer: elsewhere a descheduled handler must not meet it first.
        ["TcpTuning:Endpoints:Api:MaxFlushDelay"] = "00:00:01",
        ["TcpTuning:Endpoints:Timed:ResponseFlush"] = "MessageBoundary",
        ["TcpTuning:Endpoints:Plain:ResponseFlush"] = "PerWrite",
    };

    [Theory]
    [InlineData("Api", "/chatty", "end", 6400)]
    [InlineData("Api", "/explicit", "explicit", 300)]
    [InlineData("Timed", "/slow", "delay", 100)]
    [InlineData("Api", "/stream", "stream", 200)]
    [InlineData("Api", "/large", "threshold", 16384)]
    public async Task EachReason_CountedWithTheBytesHeld(string endpoint, string path, string reason, long firstFlushBytes)
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: Map);
        using var flushes = Collector<long>(server, "tcp_tuning.response.flush");
        using var sizes = Collector<long>(server, "tcp_tuning.response.flush.size");
        using var client = TuningTestServer.CreateClient();

        var response = await client.GetAsync(new Uri(server.AddressOn(endpoint == "Api" ? "127.0.0.2" : "127.0.0.4"), path));
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();

        var first = sizes.GetMeasurementSnapshot().First(m => Equals(m.Tags["tcp_tuning.response.flush.reason"], reason));
        Assert.Equal(endpoint, first.Tags["tcp_tuning.endpoint"]);
        Assert.Equal(firstFlushBytes, first.Value);
        Assert.Equal(sizes.GetMeasurementSnapshot().Count, flushes.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task APromptBeforeABodyRead_CountedAsBeforeRead()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: Map);
        using var sizes = Collector<long>(server, "tcp_tuning.response.flush.size");
        using var client = TuningTestServer.CreateClient();

        var response = await client.PostAsync(new Uri(server.AddressOn("127.0.0.2"), "/prompt"), new ByteArrayContent(new byte[10]));
        response.EnsureSuccessStatusCode();

        var first = sizes.GetMeasurementSnapshot()[0];
        Assert.Equal("before_read", first.Tags["tcp_tuning.response.flush.reason"]);
        Assert.Equal(100, first.Value);
    }

    [Fact]
    public async Task PerWrite_CountsNothing()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: Map);
        using var flushes = Collector<long>(server, "tcp_tuning.response.flush");
        using var client = TuningTestServer.CreateClient();

        await client.GetStringAsync(new Uri(server.AddressOn("127.0.0.3"), "/chatty"));

        Assert.Empty(flushes.GetMeasurementSnapshot());
    }

    private static MetricCollector<T> Collector<T>(TuningTestServer server, string name)
        where T : struct
        => new(server.App.Services.GetRequiredService<IMeterFactory>(), TcpTuningMetrics.MeterName, name);

    private static void Map(WebApplication app)
    {
        var piece = new byte[100];
        app.MapGet("/chatty", async (HttpContext context) =>
        {
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(piece);
            }
        });
        app.MapGet("/explicit", async (HttpContext context) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await context.Response.Body.WriteAsync(piece);
            }

            await context.Response.Body.FlushAsync();
            await context.Response.Body.WriteAsync(piece);
        });
        app.MapGet("/slow", async (HttpContext context) =>
        {
            // Longer than MaxFlushDelay (5 ms): the timer sends the first piece.
            await context.Response.Body.WriteAsync(piece);
            await Task.Delay(200);
            await context.Response.Body.WriteAsync(piece);
        });
        app.MapGet("/stream", async (HttpContext context) =>
        {
            await context.Response.Body.WriteAsync(piece);
            await context.Response.Body.WriteAsync(piece);
            context.Features.Get<IHttpResponseBodyFeature>()!.DisableBuffering();
            await context.Response.Body.WriteAsync(piece);
        });
        app.MapPost("/prompt", async (HttpContext context) =>
        {
            await context.Response.Body.WriteAsync(piece);
            var buffer = new byte[64];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }

            await context.Response.Body.WriteAsync(piece);
        });
        app.MapGet("/large", async (HttpContext context) =>
        {
            var kib = new byte[1024];
            for (var i = 0; i < 40; i++)
            {
                await context.Response.Body.WriteAsync(kib);
            }
        });
    }
}
