using System.Globalization;
using AspNetCore.TcpTuning.Testing;

namespace TcpTuning.Benchmarks.Wan;

/// <summary>
/// The client the WAN scenario runs inside <see cref="WanLink"/>'s namespace, one keep-alive connection per run:
/// <c>wan-client post URL REQUESTS</c> (the Nagle write-write-read client: headers and a 50-byte body in two sends)
/// or <c>wan-client get URL PATH REQUESTS</c> (sequential GETs, time to the last byte). It prints each request's
/// latency in milliseconds, space-separated, after warm-up requests that are not measured.
/// </summary>
internal static class WanClient
{
    private const int WarmUp = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var post = args[0] == "post";
        var url = new Uri(args[1]);
        var path = post ? "/echo" : args[2];
        var requests = int.Parse(args[post ? 2 : 3], CultureInfo.InvariantCulture);
        using var client = await WriteWriteReadClient.ConnectAsync(url, cancellationToken: timeout.Token);
        var body = new byte[50];
        body.AsSpan().Fill((byte)'x');
        var latencies = new List<double>(requests);
        for (var i = 0; i < WarmUp + requests; i++)
        {
            int status;
            TimeSpan elapsed;
            if (post)
            {
                (status, elapsed) = await client.PostAsync(path, body, timeout.Token);
            }
            else
            {
                (status, _, elapsed) = await client.TimeGetAsync(path, timeout.Token);
            }

            if (status != 200)
            {
                await Console.Error.WriteLineAsync($"{path} answered {status}");
                return 1;
            }

            if (i >= WarmUp)
            {
                latencies.Add(elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine(string.Join(' ', latencies.Select(l => l.ToString("0.###", CultureInfo.InvariantCulture))));
        return 0;
    }
}
