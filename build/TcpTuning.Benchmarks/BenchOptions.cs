using System.Globalization;

namespace TcpTuning.Benchmarks;

internal sealed record BenchOptions(string Output, int Rounds, int Requests, int WrkSeconds, string? SendCounter)
{
    /// <summary>Sequential GETs per run when counting sends and segments per response.</summary>
    public const int SequentialRequests = 200;

    /// <summary>Requests the namespace client sends before it measures (it is a new process each run).</summary>
    public const int ClientWarmUp = 5;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions("docs/benchmarks.md", Rounds: 5, Requests: 300, WrkSeconds: 3, SendCounter: null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options = args[i] switch
            {
                "--out" => options with { Output = args[i + 1] },
                "--rounds" => options with { Rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--requests" => options with { Requests = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--wrk-seconds" => options with { WrkSeconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--send-counter" => options with { SendCounter = Path.GetFullPath(args[i + 1]) },
                _ => throw new ArgumentException($"Unknown option {args[i]}; known: --out, --rounds, --requests, --wrk-seconds, --send-counter."),
            };
        }

        return options;
    }
}
