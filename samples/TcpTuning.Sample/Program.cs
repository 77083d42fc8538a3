using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var builder = WebApplication.CreateBuilder(args);

// Reads the "TcpTuning" section of appsettings.json and applies it per Kestrel endpoint.
builder.WebHost.UseTcpTuning();

var app = builder.Build();

// What TCP tuning did to this connection.
app.MapGet("/", (HttpContext context) =>
{
    var tuning = context.Features.Get<ITcpTuningFeature>();
    return Results.Ok(new
    {
        endpoint = tuning?.EndpointName ?? "(defaults)",
        applied = tuning?.AppliedOptions ?? [],
        skipped = tuning?.SkippedOptions ?? [],
        failed = tuning?.FailedOptions ?? [],
        quickAck = (tuning?.QuickAck ?? QuickAckMode.Default).ToString(),
        quickAckRearms = tuning?.QuickAckRearms ?? 0,
    });
});

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

if (args.Contains("--demo"))
{
    await app.StartAsync();
    await Demo.RunAsync(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses, app.Configuration);
    await app.StopAsync();
    return;
}

app.Run();

/// <summary>Lets tests start this app with WebApplicationFactory.</summary>
public partial class Program;

/// <summary>Runs a client that delayed ACK stalls against both endpoints and prints what each endpoint's settings cost it.</summary>
internal static class Demo
{
    private const int Requests = 50;

    public static async Task RunAsync(ICollection<string> addresses, IConfiguration configuration)
    {
        Console.WriteLine($"Write-write-read client: Nagle on, headers and body in two sends, {Requests} POSTs of 50 bytes on one connection.");
        foreach (var name in new[] { "Api", "Bulk" })
        {
            var url = configuration[$"Kestrel:Endpoints:{name}:Url"]!;
            var address = new Uri(addresses.Single(a => new Uri(a).Port == new Uri(url).Port));
            var quickAck = configuration[$"TcpTuning:Endpoints:{name}:QuickAck"] ?? configuration["TcpTuning:Defaults:QuickAck"] ?? nameof(QuickAckMode.Adaptive);
            await WriteWriteReadClient.MeasureAsync(address, "/echo", 5); // warm-up: JIT, not measured
            var latency = await WriteWriteReadClient.MeasureAsync(address, "/echo", Requests);
            var verdict = latency.P50 > TimeSpan.FromMilliseconds(20) ? "the delayed-ACK stall" : "no stall";
            Console.WriteLine($"  {name,-5} {address,-24} QuickAck: {quickAck,-9} p50 {latency.P50.TotalMilliseconds,7:F2} ms  p99 {latency.P99.TotalMilliseconds,7:F2} ms  ({verdict})");
        }
    }
}
