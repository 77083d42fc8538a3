using System.Diagnostics;
using TcpTuning.Reliability.Wire;

namespace TcpTuning.Reliability;

/// <summary>How many slow readers each configuration kept to the end of the run.</summary>
internal sealed record SlowReaderResult(string Configuration, string Protocol, int Readers, int Kept, long BytesRead);

/// <summary>
/// Readers with a 4 KiB receive buffer reading an 8 MiB response at 1 KiB/s, four times Kestrel's default minimum
/// response data rate (240 B/s): Kestrel keeps them; so must every configuration.
/// </summary>
internal static class SlowReaderRun
{
    public static async Task<List<SlowReaderResult>> RunAsync(ReliabilityServer server, int readersPerTarget, TimeSpan duration)
    {
        var runs = new List<(string Configuration, string Protocol, Task<(bool Kept, long Bytes)>[] Readers)>();
        foreach (var configuration in new[] { "Bare", "PerWrite", "Boundary", "CorkBoundary" })
        {
            foreach (var protocol in new[] { "http1", "https1" })
            {
                var target = server.Get(configuration);
                var address = protocol == "http1" ? target.Http : target.Https;
                runs.Add((configuration, protocol, Enumerable.Range(0, readersPerTarget).Select(_ => ReadAsync(address, duration)).ToArray()));
            }
        }

        var results = new List<SlowReaderResult>();
        foreach (var (configuration, protocol, readers) in runs)
        {
            var outcomes = await Task.WhenAll(readers);
            results.Add(new SlowReaderResult(configuration, protocol, readers.Length, outcomes.Count(o => o.Kept), outcomes.Sum(o => o.Bytes)));
        }

        return results;
    }

    private static async Task<(bool, long)> ReadAsync(Uri address, TimeSpan duration)
    {
        await using var connection = await RawHttpConnection.ConnectAsync(address, receiveBufferSize: 4096);
        await connection.SendGetAsync("/download?kib=8192");
        var buffer = new byte[1024];
        var total = 0L;
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var due = TimeSpan.FromSeconds(total / 1024.0);
                var wait = due - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                var read = await connection.Stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return (false, total);
                }

                total += read;
            }
        }
        catch (IOException)
        {
            return (false, total);
        }

        return (true, total);
    }
}
