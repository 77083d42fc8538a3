using System.Globalization;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Testing;

namespace TcpTuning.Benchmarks;

/// <summary>The sequential client the run starts inside the veth namespace: <c>client URL PATH REQUESTS</c>.</summary>
internal static class NamespaceClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var client = await WriteWriteReadClient.ConnectAsync(new Uri(args[0]));
        for (var i = 0; i < BenchOptions.ClientWarmUp; i++)
        {
            await client.TimeGetAsync(args[1]); // warm-up: this process is new, its first requests measure the JIT
        }

        // The client's own TCP_INFO counts what reached it, the same way for every server (nginx included).
        TcpConnectionInfo.TryRead(client.Socket, out var before);
        var count = int.Parse(args[2], CultureInfo.InvariantCulture);
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < count; i++)
        {
            var (status, _, elapsed) = await client.TimeGetAsync(args[1]);
            if (status != 200)
            {
                return 1;
            }

            latencies.Add(elapsed);
        }

        TcpConnectionInfo.TryRead(client.Socket, out var after);
        var summary = LatencySummary.From(latencies);
        var segments = (after.DataSegmentsIn - before.DataSegmentsIn) / (double)count;
        var bytes = (after.BytesReceived - before.BytesReceived) / (double)count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{summary.P50.TotalMilliseconds} {summary.Max.TotalMilliseconds} {segments} {bytes} {summary.P99.TotalMilliseconds}"));
        return 0;
}
}
