using System.Globalization;

namespace TcpTuning.Benchmarks;

/// <summary>
/// A quick side-by-side of one wrk scenario after a change: bare Kestrel, the hand-buffered ceiling (for the chatty
/// paths), Adaptive with PerWrite and the library defaults, run after run, with requests per second and the server
/// process's CPU time per request. No medians and no report: a look, not a result (that is the full run's job).
/// </summary>
internal static class QuickCompare
{
    /// <param name="args"><c>PATH [--runs N] [--connections N] [--pipelined | --mixed | --steady] [--cork] [--seconds N]</c>.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: compare PATH [--runs N] [--connections N] [--pipelined | --mixed | --steady] [--cork] [--seconds N]");
            return 2;
        }

        var path = args[0];
        var runs = IntArgument(args, "--runs", 3);
        var connections = IntArgument(args, "--connections", 32);
        var seconds = IntArgument(args, "--seconds", 3);
        var script = args.Contains("--pipelined") ? Path.Combine(AppContext.BaseDirectory, "pipeline.lua")
            : args.Contains("--mixed") || args.Contains("--steady") ? Path.Combine(AppContext.BaseDirectory, "mixed.lua")
            : null;
        var wrk = Wrk.Find();
        if (wrk is null)
        {
            Console.Error.WriteLine("wrk is needed (apt-get install wrk)");
            return 2;
        }

        // Hill climbing off, so that the thread pool does not move the rates while they are compared.
        var environment = new Dictionary<string, string> { ["DOTNET_HillClimbing_Disable"] = "1" };
        await using var bare = await ServerProcess.StartAsync(tuned: false, veth: false, sendCounter: null, environment);
        await using var tuned = await ServerProcess.StartAsync(tuned: true, veth: false, sendCounter: null, environment);

        var bareHost = BenchEndpoints.Loopback.Single(e => e.Name == "bare Kestrel").Host;
        var configurations = new List<(string Name, ServerProcess Server, Uri Url)> { ("bare Kestrel", bare, new Uri(bare.AddressOn(bareHost), path)) };
        if (path.StartsWith("/chatty", StringComparison.Ordinal))
        {
            configurations.Add(("ceiling (handler buffers in Kestrel)", bare, new Uri(bare.AddressOn(bareHost), path + "-ideal")));
        }

        foreach (var (name, host, _, _) in BenchEndpoints.Loopback.Where(e => e.Name is "Adaptive" or "Adaptive + MessageBoundary (library defaults)"))
        {
            configurations.Add((name, tuned, new Uri(tuned.AddressOn(host), path)));
        }

        if (args.Contains("--cork"))
        {
            foreach (var (name, host, _) in BenchEndpoints.LoopbackCork)
            {
                configurations.Add((name, tuned, new Uri(tuned.AddressOn(host), path)));
            }
        }

        if (path == "/prompt")
        {
            // Not wrk: the time to a prompt the handler writes before it reads the request body.
            for (var run = 0; run <= runs; run++)
            {
                foreach (var (name, _, url) in configurations)
                {
                    var latencies = (await PromptClient.MeasureAsync(url, 200)).Order().ToList();
                    if (run > 0)
                    {
                        Console.WriteLine($"{name,-46} prompt p50 {latencies[latencies.Count / 2],7:F3} ms  p99 {latencies[latencies.Count * 99 / 100],7:F3} ms");
                    }
                }
            }

            return 0;
        }

        // Run 0 warms up (JIT tiers, connections) and is not printed.
        for (var run = 0; run <= runs; run++)
        {
            foreach (var (name, server, url) in configurations)
            {
                var cpuBefore = server.CpuTime;
                var before = await server.StatsAsync();
                var result = await wrk.RunAsync(url, seconds, connections, script: script, scriptArguments: script?.EndsWith("pipeline.lua", StringComparison.Ordinal) == true ? "16" : args.Contains("--steady") ? "steady" : null);
                var cpuPerRequest = (server.CpuTime - cpuBefore).TotalMicroseconds / result.Requests;
                // Descriptors once wrk's connections are closed: give the server a moment to see them go.
                await Task.Delay(TimeSpan.FromSeconds(2));
                var after = await server.StatsAsync();
                if (run > 0)
                {
                    // The two server processes' counters: what this run added (the other configurations of a process idle meanwhile).
                    Console.WriteLine($"{name,-46} {result.RequestsPerSecond,10:F0} req/s {cpuPerRequest,8:F2} us CPU per request  p99 {result.P99Ms,7:F1} ms  gen0 {after.Gen0 - before.Gen0} gen1 {after.Gen1 - before.Gen1} gen2 {after.Gen2 - before.Gen2}  corked {after.Corks - before.Corks} released at the bound {after.BoundReleases - before.BoundReleases} at an abort {after.AbortReleases - before.AbortReleases}  fds {before.FileDescriptors}->{after.FileDescriptors}  {(after.AllocatedBytes - before.AllocatedBytes) / Math.Max(1, result.Requests),6} B allocated per request");
                    if (Environment.GetEnvironmentVariable("TCPTUNING_SAMPLE_ALLOCATIONS") == "1")
                    {
                        Console.Write(await server.AllocationsAsync());
                    }
                }
            }
        }

        return 0;
    }

    private static int IntArgument(string[] args, string name, int fallback)
        => args.SkipWhile(a => a != name).Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(fallback);
}
