using System.CommandLine;

namespace TcpTuning.Benchmarks;

/// <summary>The full run's settings, and the command line that reads them.</summary>
internal sealed record BenchOptions(string Output, int Rounds, int Requests, int WrkSeconds, string? SendCounter)
{
    /// <summary>Sequential GETs per run when counting sends and segments per response.</summary>
    public const int SequentialRequests = 200;

    /// <summary>Requests the namespace client sends before it measures (it is a new process each run).</summary>
    public const int ClientWarmUp = 5;

    private static readonly Option<string> s_out = new("--out") { Description = "The report to write.", DefaultValueFactory = _ => "docs/benchmarks.md" };
    private static readonly Option<int> s_rounds = new("--rounds") { Description = "Rounds of every scenario; the report gives medians over them.", DefaultValueFactory = _ => 5 };
    private static readonly Option<int> s_requests = new("--requests") { Description = "Sequential requests per latency run.", DefaultValueFactory = _ => 300 };
    private static readonly Option<int> s_wrkSeconds = new("--wrk-seconds") { Description = "Seconds per wrk run.", DefaultValueFactory = _ => 3 };
    private static readonly Option<string?> s_sendCounter = new("--send-counter") { Description = "An LD_PRELOAD library that counts the server's send calls (build/sendcount)." };

    /// <summary>
    /// The benchmark's command line: the full run (the root command) and the subcommands the run starts itself or a
    /// developer runs for one scenario. <c>--help</c> prints it and runs nothing.
    /// </summary>
    public static RootCommand CreateCommand(string[] args, Func<BenchOptions, Task<int>> fullRun)
    {
        var root = new RootCommand("Side-by-side benchmark of bare Kestrel and AspNetCore.TcpTuning's settings, in one run, alternating rounds; writes a Markdown report.")
        {
            s_out, s_rounds, s_requests, s_wrkSeconds, s_sendCounter,
        };
        root.SetAction((result, _) => fullRun(new BenchOptions(
            result.GetValue(s_out)!,
            result.GetValue(s_rounds),
            result.GetValue(s_requests),
            result.GetValue(s_wrkSeconds),
            result.GetValue(s_sendCounter) is { } counter ? Path.GetFullPath(counter) : null)));

        root.Subcommands.Add(PassThrough("compare", "A quick side-by-side of one scenario: compare PATH [--runs N] [--connections N] [--seconds N] [--pipelined | --mixed | --steady] [--cork].", QuickCompare.RunAsync));
        root.Subcommands.Add(PassThrough("serve", "A server process, started by the run: serve bare|tuned [veth].", serve => BenchServer.RunAsync(tuned: serve.Length > 0 && serve[0] == "tuned", veth: serve.Contains("veth"))));
        root.Subcommands.Add(PassThrough("client", "A sequential client, run inside the veth namespace: client URL PATH REQUESTS.", NamespaceClient.RunAsync));
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
