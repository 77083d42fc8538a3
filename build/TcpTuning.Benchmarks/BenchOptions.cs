using System.CommandLine;

namespace TcpTuning.Benchmarks;

/// <summary>The full run's settings, and the command line that reads them.</summary>
internal sealed record BenchOptions(string Output, int Rounds, int Requests, int WrkSeconds, string? SendCounter, bool Quick = false, IReadOnlyList<string>? Scenarios = null)
{
    /// <summary>Sequential GETs per run when counting sends and segments per response.</summary>
    public const int SequentialRequests = 200;

    /// <summary>Requests the namespace client sends before it measures (it is a new process each run).</summary>
    public const int ClientWarmUp = 5;

    private static readonly Option<string> s_out = new("--out") { Description = "The report to write.", DefaultValueFactory = _ => "docs/benchmarks.md" };
    private static readonly Option<int> s_rounds = new("--rounds") { Description = "Rounds of every scenario; the report gives medians over them.", DefaultValueFactory = _ => 5 };
    private static readonly Option<int> s_requests = new("--requests") { Description = "Sequential requests per latency run.", DefaultValueFactory = _ => 300 };
    private static readonly Option<int> s_wrkSeconds = new("--wrk-seconds") { Description = "Seconds per wrk run.", DefaultValueFactory = _ => 3 };
    private static readonly Option<bool> s_quick = new("--quick") { Description = "A representative subset in under 5 minutes, for a check after a change: 2 rounds, shorter runs, the thread-pool and 1,000-connection scenarios left out, one WAN path. Writes artifacts/benchmarks-quick.md unless --out is given; the full run stays the source of docs/benchmarks.md." };
    private static readonly Option<string[]> s_scenarios = new("--scenario") { Description = "Runs only the named scenarios (repeatable): delayed-ack, throughput, thread-pool, sends, cork-wire, flush-delay, cork-load, memory, wan. For investigation: the report's goal table then covers only them.", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<string?> s_sendCounter = new("--send-counter") { Description = "An LD_PRELOAD library that counts the server's send calls (build/sendcount)." };

    /// <summary>
    /// The benchmark's command line: the full run (the root command) and the subcommands the run starts itself or a
    /// developer runs for one scenario. <c>--help</c> prints it and runs nothing.
    /// </summary>
    public static RootCommand CreateCommand(string[] args, Func<BenchOptions, Task<int>> fullRun)
    {
        var root = new RootCommand("Side-by-side benchmark of bare Kestrel and AspNetCore.TcpTuning's settings, in one run, alternating rounds; writes a Markdown report.")
        {
            s_out, s_rounds, s_requests, s_wrkSeconds, s_sendCounter, s_quick, s_scenarios,
        };
        root.SetAction((result, _) =>
        {
            var counter = result.GetValue(s_sendCounter) is { } path ? Path.GetFullPath(path) : null;
            var scenarios = result.GetValue(s_scenarios) is { Length: > 0 } names ? names : null;
            if (!result.GetValue(s_quick))
            {
                return fullRun(new BenchOptions(result.GetValue(s_out)!, result.GetValue(s_rounds), result.GetValue(s_requests), result.GetValue(s_wrkSeconds), counter, Scenarios: scenarios));
            }

            // Explicit values still win over the quick ones.
            var output = result.GetResult(s_out) is { Implicit: false } ? result.GetValue(s_out)! : "artifacts/benchmarks-quick.md";
            var rounds = result.GetResult(s_rounds) is { Implicit: false } ? result.GetValue(s_rounds) : 2;
            var requests = result.GetResult(s_requests) is { Implicit: false } ? result.GetValue(s_requests) : 100;
            var seconds = result.GetResult(s_wrkSeconds) is { Implicit: false } ? result.GetValue(s_wrkSeconds) : 2;
            return fullRun(new BenchOptions(output, rounds, requests, seconds, counter, Quick: true, Scenarios: scenarios));
        });

        root.Subcommands.Add(PassThrough("compare", "A quick side-by-side of one scenario: compare PATH [--runs N] [--connections N] [--seconds N] [--pipelined | --mixed | --steady] [--cork].", QuickCompare.RunAsync));
        root.Subcommands.Add(PassThrough("serve", "A server process, started by the run: serve bare|tuned [veth].", serve => BenchServer.RunAsync(tuned: serve.Length > 0 && serve[0] == "tuned", veth: serve.Contains("veth"))));
        root.Subcommands.Add(PassThrough("client", "A sequential client, run inside the veth namespace: client URL PATH REQUESTS.", NamespaceClient.RunAsync));
        root.Subcommands.Add(PassThrough("wan-client", "A client run inside the WAN namespace: wan-client post URL REQUESTS | wan-client get URL PATH REQUESTS.", Wan.WanClient.RunAsync));
        return root;

        // A subcommand whose handler reads its own arguments, as typed (the subcommand is the first token).
        Command PassThrough(string name, string description, Func<string[], Task<int>> run)
        {
            var command = new Command(name, description) { new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore } };
            command.TreatUnmatchedTokensAsErrors = false;
            command.SetAction((_, _) => run(args[1..]));
            return command;
        }
    }
}
