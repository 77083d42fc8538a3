using System.Globalization;

namespace TcpTuning.Benchmarks;

internal sealed record BenchOptions(string Output, int Rounds, int Requests, int WrkSeconds)
{
    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions("docs/benchmarks.md", Rounds: 5, Requests: 300, WrkSeconds: 3);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options = args[i] switch
            {
                "--out" => options with { Output = args[i + 1] },
                "--rounds" => options with { Rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--requests" => options with { Requests = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--wrk-seconds" => options with { WrkSeconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option {args[i]}; known: --out, --rounds, --requests, --wrk-seconds."),
            };
        }

        return options;
    }
}
