using System.Diagnostics;

namespace TcpTuning.Reliability;

/// <summary>
/// Writes of random sizes through random APIs, each followed by an await longer than the flush delay: every write's
/// bytes must reach the client within the delay (plus scheduling), not when the await ends. Write k is filled with the
/// letter 'g' + k, which no chunk header or line end contains, so the client can tell when each one arrived.
/// </summary>
internal sealed record HoldProbe(int Seed, IReadOnlyList<(string Api, int Size, int AwaitMs)> Writes)
{
    public static HoldProbe Generate(int seed)
    {
        var random = new Random(seed);
        var writes = new List<(string, int, int)>();
        var count = random.Next(1, 5);
        string[] apis = ["body", "writer", "text", "advance"];
        for (var i = 0; i < count; i++)
        {
            var size = random.Next(3) switch { 0 => random.Next(1, 200), 1 => random.Next(200, 8000), _ => random.Next(8000, 60000) };
            writes.Add((apis[random.Next(apis.Length)], size, random.Next(15, 50)));
        }

        return new HoldProbe(seed, writes);
    }

    public static byte FillOf(int write) => (byte)('g' + write);

    public async Task RunAsync(HttpContext context, string id)
    {
        var response = context.Response;
        for (var k = 0; k < Writes.Count; k++)
        {
            var (api, size, awaitMs) = Writes[k];
            var fill = FillOf(k);
            ReliabilityServer.WriteTimes[(id, k)] = Stopwatch.GetTimestamp();
            switch (api)
            {
                case "body":
                    await response.Body.WriteAsync(Enumerable.Repeat(fill, size).ToArray());
                    break;
                case "writer":
                    await response.BodyWriter.WriteAsync(Enumerable.Repeat(fill, size).ToArray());
                    break;
                case "text":
                    await response.WriteAsync(new string((char)fill, size));
                    break;
                default:
                    var remaining = size;
                    while (remaining > 0)
                    {
                        var span = response.BodyWriter.GetSpan(Math.Min(remaining, 4096));
                        var n = Math.Min(span.Length, remaining);
                        span[..n].Fill(fill);
                        response.BodyWriter.Advance(n);
                        remaining -= n;
                    }

                    await response.BodyWriter.FlushAsync();
                    break;
            }

            await Task.Delay(awaitMs);
        }
    }
}
