using System.Diagnostics;
using System.Globalization;
using AspNetCore.TcpTuning;

namespace TcpTuning.Microbenchmarks;

/// <summary>
/// One row of <see cref="FlushMiddlewareBenchmarks"/> run in a steady loop: for a profiler (perf sees one hot path, not
/// BenchmarkDotNet's phases), or for two builds run one after the other, again and again, where a busy host moves
/// separate BenchmarkDotNet runs by more than a change is worth (docs/microbenchmarks.md, "Comparing two builds").
/// </summary>
internal static class FlushMiddlewareLoop
{
    // Long enough for tiered compilation to settle on its final code before the timing starts.
    private static readonly TimeSpan s_warmUp = TimeSpan.FromSeconds(1.5);

    public static int Run(string[] args)
    {
        if (args.Length < 4 || !Enum.TryParse<ResponseFlushMode>(args[1], out var mode) || !double.TryParse(args[3], CultureInfo.InvariantCulture, out var seconds) || seconds is <= 0 or > 600)
        {
            Console.Error.WriteLine("usage: loop <PerWrite|MessageBoundary> <plaintext|text|chatty|chatty-async|chatty-resumed> <seconds, at most 600> [handler]");
            return 2;
        }

        var handlerOnly = args.Length > 4 && args[4] == "handler";
        using var benchmarks = new FlushMiddlewareBenchmarks { Mode = mode, Response = args[2] };
        benchmarks.Setup();
        Func<Task> request = handlerOnly ? benchmarks.Handler : benchmarks.HandlerBehindMiddleware;

        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < s_warmUp)
        {
            request().GetAwaiter().GetResult();
        }

        var duration = TimeSpan.FromSeconds(seconds);
        var timed = Stopwatch.StartNew();
        long requests = 0;
        while (timed.Elapsed < duration)
        {
            for (var i = 0; i < 1000; i++)
            {
                request().GetAwaiter().GetResult();
            }

            requests += 1000;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(handlerOnly ? "Handler" : "HandlerBehindMiddleware")} {mode} {args[2]}: {timed.Elapsed.TotalNanoseconds / requests:F0} ns per request"));
        return 0;
    }
}
