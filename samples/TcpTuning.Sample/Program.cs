using System.Text.Json;
using System.Text.Json.Serialization;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var builder = WebApplication.CreateBuilder(args);
var demo = args.Contains("--demo");
if (demo)
{
    // The demo's two endpoints differ only in what it compares, QuickAck; every endpoint takes a free port, so the demo
    // also runs beside a sample already serving on 5080 and 5081; it exits by itself, so no "Press Ctrl+C" line.
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:Bulk:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:DemoAdaptive:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:DemoDefault:Url"] = "http://127.0.0.1:0",
        ["TcpTuning:Endpoints:DemoAdaptive:QuickAck"] = "Adaptive",
        ["TcpTuning:Endpoints:DemoDefault:QuickAck"] = "Default",
    });
    builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
}

// Reads the "TcpTuning" section of appsettings.json and applies it per Kestrel endpoint.
builder.WebHost.UseTcpTuning();

// Source-generated JSON: a trimmed build has no reflection-based serializer.
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, SampleJsonContext.Default));

var app = builder.Build();

// What TCP tuning did to this connection.
app.MapGet("/", (HttpContext context) =>
{
    var tuning = context.Features.Get<ITcpTuningFeature>();
    return new ConnectionReport(
        tuning?.EndpointName ?? "(defaults)",
        tuning?.AppliedOptions ?? [],
        tuning?.SkippedOptions ?? [],
        tuning?.FailedOptions ?? [],
        (tuning?.QuickAck ?? QuickAckMode.Default).ToString(),
        tuning?.QuickAckRearms ?? 0);
});

// The endpoint's name, as text: the demo finds its endpoints with it (text needs no JSON, so a trimmed build serves it).
app.MapGet("/endpoint", (HttpContext context) => context.Features.Get<ITcpTuningFeature>()?.EndpointName ?? "(defaults)");

// A small POST whose body the handler needs: the request shape a delayed ACK stalls.
app.MapPost("/echo", async (HttpRequest request) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    return Results.Text($"{body.Length} bytes");
});

// 64 small writes with an await between them (any async data source): ResponseFlush: MessageBoundary, the default,
// sends them as one message instead of one send per write.
app.MapGet("/report", async (HttpResponse response) =>
{
    for (var i = 0; i < 64; i++)
    {
        await response.WriteAsync($"line {i,2}: {new string('.', 88)}\n");
        await Task.Yield();
    }
});

// A route that streams with its own pace keeps Kestrel's flush on every write.
app.MapGet("/ticks", async (HttpResponse response, CancellationToken aborted) =>
{
    for (var i = 0; i < 5 && !aborted.IsCancellationRequested; i++)
    {
        await response.WriteAsync($"tick {i}\n", aborted);
        await Task.Delay(200, aborted);
    }
}).WithResponseFlush(ResponseFlushMode.PerWrite);

if (demo)
{
    await app.StartAsync();
    await Demo.RunAsync(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses);
    await app.StopAsync();
    return;
}

app.Run();

/// <summary>Lets tests start this app with WebApplicationFactory.</summary>
public partial class Program;

/// <summary>What <c>GET /</c> answers: the endpoint, what was applied to the connection and skipped or failed.</summary>
internal sealed record ConnectionReport(string Endpoint, IReadOnlyList<string> Applied, IReadOnlyList<string> Skipped, IReadOnlyList<string> Failed, string QuickAck, long QuickAckRearms);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ConnectionReport))]
internal sealed partial class SampleJsonContext : JsonSerializerContext;

/// <summary>
/// Runs a client that delayed ACK stalls against two endpoints that differ only in QuickAck and prints what each
/// setting costs it.
/// </summary>
internal static class Demo
{
    private const int Requests = 50;

    public static async Task RunAsync(ICollection<string> addresses)
    {
        // Which address is which endpoint: each answers GET /endpoint with its name.
        using var http = new HttpClient();
        var byName = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var address in addresses.Select(a => new Uri(a)))
        {
            byName[await http.GetStringAsync(new Uri(address, "/endpoint"))] = address;
        }

        Console.WriteLine($"GET / on Api, what the library did to that connection: {await http.GetStringAsync(byName["Api"])}");
        Console.WriteLine($"Write-write-read client: Nagle on, headers and body in two sends, {Requests} POSTs of 50 bytes on one connection.");
        foreach (var (name, quickAck) in new[] { ("DemoAdaptive", "Adaptive"), ("DemoDefault", "Default") })
        {
            var address = byName[name];
            await WriteWriteReadClient.MeasureAsync(address, "/echo", 5); // warm-up: JIT, not measured
            var latency = await WriteWriteReadClient.MeasureAsync(address, "/echo", Requests);
            var verdict = latency.P50 > TimeSpan.FromMilliseconds(20) ? "the delayed-ACK stall" : "no stall";
            Console.WriteLine($"  {address,-24} QuickAck: {quickAck,-9} p50 {latency.P50.TotalMilliseconds,7:F2} ms  p99 {latency.P99.TotalMilliseconds,7:F2} ms  ({verdict})");
        }
    }
}
