using System.Globalization;
using System.Text;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Testing;
using TcpTuning.Benchmarks;

// Side-by-side benchmark of bare Kestrel and the library's settings, in one run, alternating rounds (--help lists the
// options and the subcommands).
return await BenchOptions.CreateCommand(args, FullRunAsync).Parse(args).InvokeAsync();

// Captures the command line, which the report quotes.
async Task<int> FullRunAsync(BenchOptions options)
{
    const string Ceiling = "ceiling: bare Kestrel, handler writes with GetSpan/Advance, one flush at the end";
    const string Defaults = "Adaptive + MessageBoundary (library defaults)";
    int[] WorkerCounts = [1, 2, 4];
    // wrk connections besides the main tables' 32, for the chatty scenarios: how the ratio to bare moves with concurrency.
    int[] ConnectionCounts = [4, 128];
    var inv = CultureInfo.InvariantCulture;
    const int CorkLatencyPasses = 3;
    const int CorkLoadConnections = 1000;
    const int CorkLoadSeconds = 10;
    // The mixes, as mixed.lua's argument: the chatty response awaits between writes, or writes back to back.
(string Mix, string? Argument)[] CorkLoadMixes = [("with awaits", null), ("steady", "steady")];
    const int PromptExchanges = 200;
    const int FloorRequests = 2000; // the floor is ~0.05 ms a request: more requests cost little and steady its median

    var veth = VethNamespace.TryCreate(out var vethUnavailable);
    try
    {
        await using var bare = await ServerProcess.StartAsync(tuned: false, veth is not null, options.SendCounter);
        await using var tuned = await ServerProcess.StartAsync(tuned: true, veth is not null, options.SendCounter);
        // nginx serves the same body sizes as the Cork scenarios (64 x 100 B, 100 KiB, 1 MiB) from files.
        await using var nginx = veth is null ? null : await NginxServer.TryStartAsync(new Dictionary<string, int> { ["/chatty-async"] = 6400, ["/kib100"] = 100 * 1024, ["/mib1"] = 1024 * 1024 });
        var corkConfigurations = BenchEndpoints.Veth.Select(v => (v.Name, v.Port)).Concat(nginx is null ? [] : [(NginxServer.Name, NginxServer.Port)]).ToArray();
        ServerProcess ServerOf(string? quickAck) => quickAck is null ? bare : tuned;
        var wrk = Wrk.Find();
        var pipelineScript = Path.Combine(AppContext.BaseDirectory, "pipeline.lua");

        var latencyModes = BenchEndpoints.Loopback.Where(e => e.Name == "bare Kestrel" || e.ResponseFlush == "PerWrite").ToArray();
        // "Default" (QuickAck Default, PerWrite) is the tuned process with no connection wrappers: the control for "Adaptive".
        var flushModes = BenchEndpoints.Loopback.Where(e => e.QuickAck is null || e.Name is "Default" or "Adaptive" || e.ResponseFlush == "MessageBoundary").ToArray();
        // The ceiling of what holding writes can give: bare Kestrel with a handler that buffers in Kestrel itself.
        var chattyModes = flushModes.Append((Name: Ceiling, Host: "127.0.0.10", QuickAck: (string?)null, ResponseFlush: (string?)null)).ToArray();
        var split = latencyModes.ToDictionary(m => m.Name, _ => new List<RunResult>());
        var floor = latencyModes.ToDictionary(m => m.Name, _ => new List<RunResult>());
        var rps = new Dictionary<(string Scenario, string Mode), List<double>>();
        var cpu = new Dictionary<(string Scenario, string Mode), List<double>>();
        var wrkSends = new Dictionary<(string Scenario, string Mode), List<double>>();
        var sends = new Dictionary<(string Scenario, string Mode), List<double>>();
        var vethSegments = new Dictionary<(string Scenario, string Mode), List<double>>();
        var vethSends = new Dictionary<(string Scenario, string Mode), List<double>>();
        var progress = new Dictionary<string, List<(double FirstByte, double Elapsed, double Sends)>>();
        var corkRuns = new Dictionary<(string Path, string Mode), List<(double Segments, double Bytes, double P50, double P99, double Max)>>();
        string[] corkPaths = ["/chatty-async", "/kib100", "/mib1"];
        string[] corkRpsPaths = ["/chatty-async", "/kib100"];
        var corkRps = new Dictionary<(string Path, string Mode), List<double>>();
        const string VethControl = "bare Kestrel (A/A control)";
        // nginx serves its bytes from a file, so its rate is a reference for the wire, not a like-for-like server comparison.
        var corkRpsConfigurations = corkConfigurations.Append((VethControl, BenchEndpoints.VethControlPort)).ToArray();
        // Bare, ceiling and library defaults: the chatty scenarios again at other loads and thread-pool sizes.
        var ceilingModes = chattyModes.Where(m => m.Name is "bare Kestrel" or Ceiling or Defaults).ToArray();
        var sweepRps = new Dictionary<(string Scenario, int Connections, string Mode), List<double>>();
        // Passes: runs of every configuration per round. The plaintext goals are a few percent either way, within the
        // noise of a 3-second run on 2 shared cores: twice the runs for those cheap scenarios.
        var wrkScenarios = new (string Name, string Path, string? Script, (string Name, string Host, string? QuickAck, string? ResponseFlush)[] Modes, int Passes)[]
        {
            ("plaintext", "/plaintext", null, BenchEndpoints.Loopback, 2),
            ("pipelined plaintext (depth 16)", "/plaintext", pipelineScript, flushModes, 2),
            ("chatty, back to back (64 x 100 B)", "/chatty", null, chattyModes, 1),
            ("chatty, await between writes (64 x 100 B)", "/chatty-async", null, chattyModes, 1),
        };

        // Warm-up, not measured: JIT and connection paths of every endpoint.
        foreach (var (_, host, quickAck, _) in BenchEndpoints.Loopback)
        {
            var address = ServerOf(quickAck).AddressOn(host);
            await WriteWriteReadClient.MeasureAsync(address, "/echo", 50, singleSend: true);
            if (wrk is not null)
            {
                await wrk.RunAsync(new Uri(address, "/chatty-async"), 1);
            }
        }

        await bare.TakeConnectionsAsync();
        await tuned.TakeConnectionsAsync();

        for (var round = 0; round < options.Rounds; round++)
        {
            foreach (var (name, host, quickAck, _) in Rotate(latencyModes, round))
            {
                var server = ServerOf(quickAck);
                var address = server.AddressOn(host);
                split[name].Add(await LatencyAsync(server, address, singleSend: false, options.Requests));
                floor[name].Add(await LatencyAsync(server, address, singleSend: true, FloorRequests));
                Console.WriteLine($"round {round + 1}/{options.Rounds} latency {name,-14} split p50 {split[name][^1].Latency.P50.TotalMilliseconds,8:F3} ms  floor p50 {floor[name][^1].Latency.P50.TotalMilliseconds,7:F3} ms");
            }

            if (wrk is not null)
            {
                foreach (var (scenario, path, script, modes, passes) in wrkScenarios)
                {
                    foreach (var (name, host, quickAck, _) in RotatePasses(modes, round, passes))
                    {
                        var server = ServerOf(quickAck);
                        var url = new Uri(server.AddressOn(host), name == Ceiling ? path + "-ideal" : path);
                        var sendsBefore = await server.SendsAsync();
                        var cpuBefore = server.CpuTime;
                        var result = await wrk.RunAsync(url, options.WrkSeconds, script: script, scriptArguments: script is null ? null : "16");
                        var cpuPerRequest = (server.CpuTime - cpuBefore).TotalMicroseconds / result.Requests;
                        var sendsAfter = await server.SendsAsync();
                        Add(rps, (scenario, name), result.RequestsPerSecond);
                        Add(cpu, (scenario, name), cpuPerRequest);
                        if (sendsBefore >= 0)
                        {
                            // The first /__sends answer is one send of the server's own. Requests still in flight when wrk stops
                            // may have sent without being counted by wrk: a negligible excess over a run.
                            Add(wrkSends, (scenario, name), (sendsAfter - sendsBefore - 1) / (double)result.Requests);
                        }

                        Console.WriteLine($"round {round + 1}/{options.Rounds} wrk {scenario,-42} {name,-46} {result.RequestsPerSecond,9:F0} req/s {cpuPerRequest,7:F2} us CPU");
                    }
                }

                foreach (var (scenario, path, _, _, _) in wrkScenarios.Where(w => w.Path.StartsWith("/chatty", StringComparison.Ordinal)))
                {
                    foreach (var connections in ConnectionCounts)
                    {
                        foreach (var (name, host, quickAck, _) in Rotate(ceilingModes, round))
                        {
                            var url = new Uri(ServerOf(quickAck).AddressOn(host), name == Ceiling ? path + "-ideal" : path);
                            var value = (await wrk.RunAsync(url, options.WrkSeconds, connections)).RequestsPerSecond;
                            Add(sweepRps, (scenario, connections, name), value);
                            Console.WriteLine($"round {round + 1}/{options.Rounds} wrk {scenario,-42} c{connections,-4} {name,-46} {value,9:F0} req/s");
                        }
                    }
                }
            }

            if (veth is not null)
            {
                foreach (var path in corkPaths)
                {
                    // The latency goals compare the slowest request of a run, a tail that one scheduling hiccup moves by
                    // milliseconds: several runs per round (each a few hundred milliseconds) steady its median.
                    foreach (var (name, port) in RotatePasses(corkConfigurations, round, CorkLatencyPasses))
                    {
                        // p50 ms, max ms, data segments and bytes per response, from the client's TCP_INFO.
                        var output = await VethNamespace.RunClientAsync($"http://{BenchEndpoints.VethHost}:{port}/ {path} {(path == "/mib1" ? 20 : 50)}");
                        var measured = output.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                        if (!corkRuns.TryGetValue((path, name), out var runs))
                        {
                            corkRuns[(path, name)] = runs = [];
                        }

                        runs.Add((measured[2], measured[3], measured[0], measured[4], measured[1]));
                    }
                }

                if (wrk is not null)
                {
                    foreach (var path in corkRpsPaths)
                    {
                        foreach (var (name, port) in Rotate(corkRpsConfigurations, round))
                        {
                            var value = (await wrk.RunAsync(new Uri($"http://{BenchEndpoints.VethHost}:{port}{path}"), options.WrkSeconds, networkNamespace: VethNamespace.Name)).RequestsPerSecond;
                            Add(corkRps, (path, name), value);
                            Console.WriteLine($"round {round + 1}/{options.Rounds} wrk veth {CorkResponse(path),-26} {name,-46} {value,9:F0} req/s");
                        }
                    }
                }
            }

            foreach (var (name, host, _) in Rotate(BenchEndpoints.FlushDelays, round))
            {
                var before = await tuned.SendsAsync();
                using var client = await WriteWriteReadClient.ConnectAsync(tuned.AddressOn(host));
                var firstBytes = new List<double>();
                var elapsed = new List<double>();
                for (var i = 0; i < 20; i++)
                {
                    var (_, firstByte, total) = await client.TimeGetAsync("/progress");
                    firstBytes.Add(firstByte.TotalMilliseconds);
                    elapsed.Add(total.TotalMilliseconds);
                }

                var after = await tuned.SendsAsync();
                if (!progress.TryGetValue(name, out var runs))
                {
                    progress[name] = runs = [];
                }

                runs.Add((Median(firstBytes), Median(elapsed), before < 0 ? double.NaN : (after - before - 1) / 20.0));
            }

            foreach (var path in new[] { "/chatty", "/chatty-async" })
            {
                foreach (var (name, host, quickAck, _) in Rotate(flushModes.Where(m => !m.Name.Contains("A/A", StringComparison.Ordinal)).ToArray(), round))
                {
                    var server = ServerOf(quickAck);
                    var before = await server.SendsAsync();
                    await SequentialGetsAsync(server.AddressOn(host), path);
                    var after = await server.SendsAsync();
                    if (before >= 0)
                    {
                        // The first /__sends answer is one send of the server's own.
                        Add(sends, (path, name), (after - before - 1) / (double)BenchOptions.SequentialRequests);
                    }
                }

                if (veth is not null)
                {
                    foreach (var (name, port, flush, _) in Rotate(BenchEndpoints.Veth.Where(v => !v.Cork).ToArray(), round))
                    {
                        var server = flush is null ? bare : tuned;
                        await server.TakeConnectionsAsync();
                        var before = await server.SendsAsync();
                        await VethNamespace.RunClientAsync($"http://{BenchEndpoints.VethHost}:{port}/ {path} {BenchOptions.SequentialRequests}");
                        var after = await server.SendsAsync();
                        var sample = (await server.TakeConnectionsAsync()).Single();
                        Add(vethSegments, (path, name), (sample.LastDataSegmentsOut - sample.FirstDataSegmentsOut) / (double)(sample.Requests - 1));
                        if (before >= 0)
                        {
                            Add(vethSends, (path, name), (after - before - 1) / (double)(BenchOptions.SequentialRequests + BenchOptions.ClientWarmUp));
                        }
                    }
                }
            }
        }

        // The async chatty ratio depends on how many thread-pool workers run: the same three handlers under fixed pool sizes,
        // each in its own pair of processes (the size is a runtime setting read at start).
        var regimeRps = new Dictionary<(int Workers, string Mode), List<double>>();
        if (wrk is not null)
        {
            foreach (var workers in WorkerCounts)
            {
                var environment = new Dictionary<string, string>
                {
                    ["DOTNET_ThreadPool_ForceMinWorkerThreads"] = workers.ToString(inv),
                    ["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = workers.ToString(inv),
                };
                await using var bareFixed = await ServerProcess.StartAsync(tuned: false, veth: false, sendCounter: null, environment);
                await using var tunedFixed = await ServerProcess.StartAsync(tuned: true, veth: false, sendCounter: null, environment);
                Uri UrlOf(string name, string host) => new((name == Defaults ? tunedFixed : bareFixed).AddressOn(host), name == Ceiling ? "/chatty-async-ideal" : "/chatty-async");
                // New processes: long enough a warm-up for the JIT to reach tier 1 on a saturated pool.
                foreach (var (name, host, _, _) in ceilingModes)
                {
                    await wrk.RunAsync(UrlOf(name, host), 2 * options.WrkSeconds);
                }

                for (var round = 0; round < options.Rounds; round++)
                {
                    foreach (var (name, host, _, _) in Rotate(ceilingModes, round))
                    {
                        var value = (await wrk.RunAsync(UrlOf(name, host), options.WrkSeconds)).RequestsPerSecond;
                        Add(regimeRps, (workers, name), value);
                        Console.WriteLine($"round {round + 1}/{options.Rounds} wrk async chatty, {workers} worker(s) {name,-46} {value,9:F0} req/s");
                    }
                }
            }
        }

        // Cork under load (1,000 connections, a mix of small, chatty and large responses), and the time to a prompt the app
        // writes before it reads the request body; bare Kestrel and the library defaults beside the two Cork endpoints.
        (string Name, ServerProcess Server, string Host)[] corkLoadModes =
        [
            ("bare Kestrel", bare, BenchEndpoints.Loopback.Single(e => e.Name == "bare Kestrel").Host),
            (Defaults, tuned, BenchEndpoints.Loopback.Single(e => e.Name == Defaults).Host),
            .. BenchEndpoints.LoopbackCork.Select(c => (c.Name, tuned, c.Host)),
        ];
        var corkLoad = new Dictionary<(string Mode, string Measure), List<double>>();
        var prompt = new Dictionary<(string Mode, string Measure), List<double>>();
        if (wrk is not null)
        {
            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var (mix, argument) in CorkLoadMixes)
                {
                    foreach (var (name, server, host) in Rotate(corkLoadModes, round))
                    {
                        var before = await server.StatsAsync();
                        var result = await wrk.RunAsync(new Uri(server.AddressOn(host), "/"), CorkLoadSeconds, CorkLoadConnections, script: Path.Combine(AppContext.BaseDirectory, "mixed.lua"), scriptArguments: argument);
                        var after = await server.StatsAsync();
                        Add(corkLoad, (mix + name, "rps"), result.RequestsPerSecond);
                        Add(corkLoad, (mix + name, "p99"), result.P99Ms);
                        Add(corkLoad, (mix + name, "gen0"), after.Gen0 - before.Gen0);
                        Add(corkLoad, (mix + name, "gen1"), after.Gen1 - before.Gen1);
                        Add(corkLoad, (mix + name, "bound"), 1000.0 * (after.BoundReleases - before.BoundReleases) / result.Requests);
                        Add(corkLoad, (mix + name, "abort"), after.AbortReleases - before.AbortReleases);
                        Console.WriteLine($"round {round + 1}/{options.Rounds} wrk {mix} c{CorkLoadConnections} {name,-46} {result.RequestsPerSecond,9:F0} req/s p99 {result.P99Ms,7:F1} ms");
                    }
                }

                foreach (var (name, server, host) in Rotate(corkLoadModes, round))
                {
                    var latencies = await PromptClient.MeasureAsync(server.AddressOn(host), PromptExchanges);
                    Add(prompt, (name, "p50"), Percentile(latencies, 0.5));
                    Add(prompt, (name, "p99"), Percentile(latencies, 0.99));
                    Console.WriteLine($"round {round + 1}/{options.Rounds} prompt {name,-46} p50 {Percentile(latencies, 0.5),7:F3} ms");
                }
            }
        }

        await File.WriteAllTextAsync(options.Output, Report());
        Console.WriteLine($"wrote {options.Output}");
        return 0;

        string Report()
        {
            var report = new StringBuilder();
            report.AppendLine("# Benchmarks").AppendLine();
            report.AppendLine(inv, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `build/bench.sh{(args.Length > 0 ? " " + string.Join(' ', args) : "")}`.");
            report.AppendLine();
            report.AppendLine(inv, $"Machine: {Machine.Describe()}");
            report.AppendLine();
            report.AppendLine(inv, $"Bare Kestrel (no `UseTcpTuning`) and the tuned app run side by side as two server processes, each endpoint on its own 127.0.0.x address (plus fixed ports on a veth pair). Every figure is the median over {options.Rounds} rounds; each round runs every configuration once, in an order rotated per round. \"bare Kestrel (A/A control)\" is a second endpoint of the bare server: its distance from \"bare Kestrel\" is the noise of the table. Server segments come from TCP_INFO on the server's socket, read by the handler; send syscalls from an LD_PRELOAD counter in the server process (`build/sendcount`, strace would change the timing); setsockopt calls from the library's own re-arm counter.");
            report.AppendLine();

            report.AppendLine("## Delayed-ACK stall: Nagle client, headers and body in two sends (issue #3)").AppendLine();
            report.AppendLine(inv, $"One keep-alive connection, {options.Requests} sequential POSTs with a 50-byte body; the first request is left out (Linux quick-ACKs at connection start). QuickAck endpoints use `ResponseFlush: PerWrite` so only QuickAck differs.");
            report.AppendLine();
            report.AppendLine("| QuickAck | p50 ms | p99 ms | max ms | p50 / single-send floor | server segments per request | setsockopt per request |");
            report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, _, _, _) in latencyModes)
            {
                var s = Summarise(split[name]);
                var f = Summarise(floor[name]);
                report.AppendLine(inv, $"| {name} | {s.P50:F3} | {s.P99:F3} | {s.Max:F3} | {s.P50 / f.P50:F1}x | {s.Segments:F2} | {s.Rearms:F2} |");
            }

            report.AppendLine().AppendLine("### Single-send client (the floor): the request arrives whole").AppendLine();
            report.AppendLine(inv, $"The same client sending each request in one write: {FloorRequests} POSTs per run.");
            report.AppendLine();
            report.AppendLine("| QuickAck | p50 ms | p99 ms | max ms | server segments per request | setsockopt per request |");
            report.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, _, _, _) in latencyModes)
            {
                var f = Summarise(floor[name]);
                report.AppendLine(inv, $"| {name} | {f.P50:F3} | {f.P99:F3} | {f.Max:F3} | {f.Segments:F2} | {f.Rearms:F2} |");
            }

            report.AppendLine().AppendLine("## Throughput (wrk)").AppendLine();
            if (wrk is null)
            {
                report.AppendLine("wrk was not found; run `build/bench.sh`, which installs it.");
            }
            else
            {
                report.AppendLine(inv, $"`wrk -t1 -c32 -d{options.WrkSeconds}s`, pipelining with `build/TcpTuning.Benchmarks/pipeline.lua` (16 requests per write). wrk and the server share the 2 cores. \"Default\" (QuickAck `Default`, `PerWrite`) runs in the tuned server with no connection-layer wrappers: next to \"Adaptive\" it separates the cost of the wrappers from that of the process. Server CPU per request is the server process's user and system time over the run divided by the requests wrk completed: it is what a request costs, and it moves less between runs than the rate, which also depends on how the thread pool happens to schedule (below). Send syscalls per response come from the LD_PRELOAD counter over the same run.");
                foreach (var (scenario, _, _, modes, passes) in wrkScenarios)
                {
                    report.AppendLine().AppendLine(inv, $"### {scenario}").AppendLine();
                    if (passes > 1)
                    {
                        report.AppendLine(inv, $"{passes} runs of every configuration per round: {passes * options.Rounds} runs each.").AppendLine();
                    }

                    report.AppendLine("| configuration | requests/s | ratio to bare | ratio to bare run by run: median (range) | server CPU µs per request | CPU ratio to bare | send syscalls per response |");
                    report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
                    var baseline = Median(rps[(scenario, "bare Kestrel")]);
                    var baselineCpu = Median(cpu[(scenario, "bare Kestrel")]);
                    foreach (var (name, _, _, _) in modes)
                    {
                        var value = Median(rps[(scenario, name)]);
                        var cost = Median(cpu[(scenario, name)]);
                        var sendCell = wrkSends.TryGetValue((scenario, name), out var sent) ? Median(sent).ToString("F3", inv) : "n/a";
                        var (pairedMedian, pairedLow, pairedHigh) = PairedRatio(scenario, name);
                        report.AppendLine(inv, $"| {name} | {value:F0} | {value / baseline:F2} | {pairedMedian:F2} ({pairedLow:F2}-{pairedHigh:F2}) | {cost:F2} | {cost / baselineCpu:F2} | {sendCell} |");
                    }
                }

                report.AppendLine().AppendLine("### chatty, by wrk connections").AppendLine();
                report.AppendLine(inv, $"The two chatty scenarios at other wrk connection counts (`-c`), the same servers and rounds; the 32-connection rows are the tables above. Bare Kestrel's rate, and so every ratio to it, moves with the load; the library's ratio to the ceiling is what it controls.");
                report.AppendLine();
                report.AppendLine("| response | connections | bare Kestrel req/s | ceiling req/s | library defaults req/s | ceiling / bare | library defaults / bare | library defaults / ceiling |");
                report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var (scenario, _, _, _, _) in wrkScenarios.Where(w => w.Path.StartsWith("/chatty", StringComparison.Ordinal)))
                {
                    foreach (var connections in ConnectionCounts.Append(32).Order())
                    {
                        double RateOf(string mode) => Median(connections == 32 ? rps[(scenario, mode)] : sweepRps[(scenario, connections, mode)]);
                        report.AppendLine(inv, $"| {scenario} | {connections} | {CeilingCells(RateOf("bare Kestrel"), RateOf(Ceiling), RateOf(Defaults))}");
                    }
                }

                report.AppendLine().AppendLine("### chatty, await between writes, under fixed thread-pool sizes").AppendLine();
                report.AppendLine(inv, $"The same scenario with the thread pool held at a fixed number of workers (`DOTNET_ThreadPool_ForceMinWorkerThreads` and `DOTNET_ThreadPool_ForceMaxWorkerThreads`, both processes alike), {options.Rounds} rounds each. By default the pool's hill climbing moves the worker count while it runs, and this scenario's rate follows it: bare Kestrel's 64 flushes per response each wake a send, and how those wake-ups fall on the workers decides its rate, while a response held to one flush barely depends on it. The ratio to bare therefore says as much about the pool as about the library; the ratio to the ceiling does not.");
                report.AppendLine();
                report.AppendLine("| workers | bare Kestrel req/s | ceiling req/s | library defaults req/s | ceiling / bare | library defaults / bare | library defaults / ceiling |");
                report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var workers in WorkerCounts)
                {
                    report.AppendLine(inv, $"| {workers} | {CeilingCells(Median(regimeRps[(workers, "bare Kestrel")]), Median(regimeRps[(workers, Ceiling)]), Median(regimeRps[(workers, Defaults)]))}");
                }

                var asyncChatty = wrkScenarios[3].Name;
                report.AppendLine(inv, $"| default (hill climbing, table above) | {CeilingCells(Median(rps[(asyncChatty, "bare Kestrel")]), Median(rps[(asyncChatty, Ceiling)]), Median(rps[(asyncChatty, Defaults)]))}");
            }

            report.AppendLine().AppendLine("## Sends and segments per response (issue #4)").AppendLine();
            report.AppendLine(inv, $"{BenchOptions.SequentialRequests} sequential GETs on one keep-alive connection. Loopback: send syscalls. veth pair into a namespace (MTU 1500, MSS 1448): send syscalls and server data segments; 64 x 100 B is 6.4 KB of body, 5 segments at least.");
            report.AppendLine();
            report.AppendLine("| response | configuration | sends (loopback) | sends (veth) | data segments (veth) |");
            report.AppendLine("|---|---|---:|---:|---:|");
            foreach (var path in new[] { "/chatty", "/chatty-async" })
            {
                foreach (var (name, _, _, _) in flushModes.Where(m => !m.Name.Contains("A/A", StringComparison.Ordinal)))
                {
                    report.AppendLine(inv, $"| {(path == "/chatty" ? "back to back" : "await between writes")} | {name} | {Cell(sends, (path, name))} | {Cell(vethSends, (path, name))} | {Cell(vethSegments, (path, name))} |");
                }
            }

            if (veth is null)
            {
                report.AppendLine().AppendLine(inv, $"The veth columns are empty: {vethUnavailable}");
            }

            if (options.SendCounter is null)
            {
                report.AppendLine().AppendLine("The send columns are empty: run through `build/bench.sh`, which builds the LD_PRELOAD counter.");
            }

            report.AppendLine().AppendLine("## Cork: segments per response across the veth pair (issue #5)").AppendLine();
            if (corkRuns.Count == 0)
            {
                report.AppendLine(inv, $"Not measured: {vethUnavailable}");
            }
            else
            {
                report.AppendLine(inv, $"Sequential GETs on one connection from inside the namespace (MTU 1500: 1448-byte payloads with timestamps). Each Kestrel response is written in small pieces with `await Task.Yield()` between them (chunked); nginx serves the same body sizes from files (Content-Length). Data segments and bytes per response come from the client's TCP_INFO (`tcpi_data_segs_in`, `tcpi_bytes_received`), the same way for every server; minimum = ceil(bytes per response / 1448). Latency is measured by the client (p50, p99 and max over the run; with 50 requests per run, 20 for 1 MiB, p99 is the slowest request, as max is). Every figure is the median over {CorkLatencyPasses} runs per round, {CorkLatencyPasses * options.Rounds} runs in all.");
                if (nginx is null)
                {
                    report.AppendLine().AppendLine("nginx is not installed here, so it has no rows (`build/bench.sh` installs it when run as root).");
                }

                report.AppendLine();
                report.AppendLine("| response | configuration | data segments | minimum | p50 ms | p99 ms | max ms |");
                report.AppendLine("|---|---|---:|---:|---:|---:|---:|");
                foreach (var path in corkPaths)
                {
                    foreach (var (name, _) in corkConfigurations)
                    {
                        var runs = corkRuns[(path, name)];
                        var bytes = Median(runs.Select(r => r.Bytes));
                        report.AppendLine(inv, $"| {CorkResponse(path)} | {name} | {Median(runs.Select(r => r.Segments)):F2} | {Math.Ceiling(bytes / 1448):F0} | {Median(runs.Select(r => r.P50)):F2} | {Median(runs.Select(r => r.P99)):F2} | {Median(runs.Select(r => r.Max)):F2} |");
                    }
                }

                if (corkRps.Count > 0)
                {
                    report.AppendLine().AppendLine("### Cork throughput across the veth pair").AppendLine();
                    report.AppendLine(inv, $"`wrk -t1 -c32 -d{options.WrkSeconds}s` run inside the namespace against the same endpoints (wrk and the server share the 2 cores). The A/A control is a second bare endpoint: with `await` between writes, how many writes share a send depends on timing, so this table is noisier than the loopback ones. nginx serves the same bytes from a file: its rate is a reference for the wire, not a like-for-like comparison of servers.");
                    report.AppendLine().AppendLine("| response | configuration | requests/s | ratio to bare |").AppendLine("|---|---|---:|---:|");
                    foreach (var path in corkRpsPaths)
                    {
                        foreach (var (name, _) in corkRpsConfigurations)
                        {
                            report.AppendLine(inv, $"| {CorkResponse(path)} | {name} | {Median(corkRps[(path, name)]):F0} | {CorkRpsRatio(path, name):F2} |");
                        }
                    }
                }
            }

            report.AppendLine().AppendLine("## Choosing MaxFlushDelay: a slow producer").AppendLine();
            report.AppendLine("A handler writes 32 pieces of 100 bytes with `await Task.Delay(1)` between them and never flushes (a report, a log tail): the delay timer alone decides when bytes leave. 20 sequential GETs per run on one connection, loopback.");
            report.AppendLine();
            report.AppendLine("| configuration | time to first byte ms | response time ms | sends per response |");
            report.AppendLine("|---|---:|---:|---:|");
            foreach (var (name, _, _) in BenchEndpoints.FlushDelays)
            {
                var runs = progress[name];
                report.AppendLine(inv, $"| {name} | {Median(runs.Select(r => r.FirstByte)):F2} | {Median(runs.Select(r => r.Elapsed)):F2} | {Median(runs.Select(r => r.Sends)):F2} |");
            }

            if (corkLoad.Count > 0)
            {
                report.AppendLine().AppendLine(inv, $"## Cork under load: {CorkLoadConnections} connections, a mixed request mix").AppendLine();
                report.AppendLine(inv, $"wrk, {CorkLoadConnections} connections for {CorkLoadSeconds} s on loopback, each connection in turn: plaintext, chatty (64 x 100 B) and 100 KiB in 1 KiB writes, 6:3:1. In the mix *with awaits* the chatty response awaits between its writes (`build/TcpTuning.Benchmarks/mixed.lua`); in the *steady* mix it writes them back to back (`mixed.lua steady`). Garbage collections are the server process's over the run. *At the bound*: held bytes the cork sent at its hold bound (`MaxFlushDelay` - 2 ms) before their message ended, per 1,000 responses: a response written in pieces more slowly than the bound has its bytes leave at the bound, by design, and at 1,000 connections on two cores any response written in pieces can be (the chatty and the 100 KiB ones, in both mixes). *At an abort*: held bytes of a message that never ended, sent as its connection was aborted (the old \"safety net\" case), in all.");
                report.AppendLine();
                report.AppendLine("| mix | configuration | req/s | / bare | p99 ms | gen0 | gen1 | releases at the bound per 1,000 responses | releases at an abort |");
                report.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var (mix, _) in CorkLoadMixes)
                {
                    var bareRate = Median(corkLoad[(mix + "bare Kestrel", "rps")]);
                    foreach (var (name, _, _) in corkLoadModes)
                    {
                        var key = mix + name;
                        report.AppendLine(inv, $"| {mix} | {name} | {Median(corkLoad[(key, "rps")]):F0} | {Median(corkLoad[(key, "rps")]) / bareRate:F2} | {Median(corkLoad[(key, "p99")]):F1} | {Median(corkLoad[(key, "gen0")]):F0} | {Median(corkLoad[(key, "gen1")]):F0} | {Median(corkLoad[(key, "bound")]):F1} | {Median(corkLoad[(key, "abort")]):F0} |");
                    }
                }

                report.AppendLine().AppendLine("### A prompt before a request-body read").AppendLine();
                report.AppendLine(inv, $"The handler writes a prompt, then reads the request body, which the client sends only once it has seen the prompt; {PromptExchanges} exchanges on one keep-alive connection per round, the time from the request to the prompt.");
                report.AppendLine();
                report.AppendLine("| configuration | p50 ms | p99 ms |");
                report.AppendLine("|---|---:|---:|");
                foreach (var (name, _, _) in corkLoadModes)
                {
                    report.AppendLine(inv, $"| {name} | {Median(prompt[(name, "p50")]):F3} | {Median(prompt[(name, "p99")]):F3} |");
                }
            }

            report.AppendLine().AppendLine("## Goals").AppendLine();
            report.AppendLine("| issue | goal | measured | met |");
            report.AppendLine("|---|---|---|---|");
            var adaptive = Summarise(split["Adaptive"]);
            var adaptiveFloor = Summarise(floor["Adaptive"]);
            var bareFloor = Summarise(floor["bare Kestrel"]);
            Goal(report, "#3", "Adaptive p99 <= 1 ms (write-write-read)", $"{adaptive.P99:F3} ms", adaptive.P99 <= 1.0);
            Goal(report, "#3", "Adaptive p50 <= 2x the single-send floor", $"{adaptive.P50 / adaptiveFloor.P50:F2}x", adaptive.P50 <= 2 * adaptiveFloor.P50);
            Goal(report, "#3", "0 extra server segments per complete request (Adaptive vs bare, single send)", $"{adaptiveFloor.Segments - bareFloor.Segments:+0.00;-0.00;0.00}", adaptiveFloor.Segments - bareFloor.Segments < 0.05);
            Goal(report, "#3", "0 setsockopt per complete request (Adaptive, single send)", $"{adaptiveFloor.Rearms:F2}", adaptiveFloor.Rearms == 0);
            if (wrk is not null)
            {
                double Ratio(string scenario, string mode) => Median(rps[(scenario, mode)]) / Median(rps[(scenario, "bare Kestrel")]);
                string WithPaired(string scenario, string mode) => string.Create(inv, $"{Ratio(scenario, mode):F2} (run by run {PairedRatio(scenario, mode).Median:F2})");
                Goal(report, "#3", "Adaptive plaintext RPS >= 0.98 of bare", $"{WithPaired("plaintext", "Adaptive")}; A/A control {WithPaired("plaintext", "bare Kestrel (A/A control)")}", Ratio("plaintext", "Adaptive") >= 0.98);
                Goal(report, "#4", "async chatty RPS >= 6x bare", $"{Ratio(wrkScenarios[3].Name, Defaults):F2}x (ceiling {Ratio(wrkScenarios[3].Name, Ceiling):F2}x)", Ratio(wrkScenarios[3].Name, Defaults) >= 6);
                Goal(report, "#4", "back-to-back chatty RPS >= 1.3x bare", $"{Ratio(wrkScenarios[2].Name, Defaults):F2}x (ceiling {Ratio(wrkScenarios[2].Name, Ceiling):F2}x)", Ratio(wrkScenarios[2].Name, Defaults) >= 1.3);
                Goal(report, "#4", "plaintext RPS >= 0.98 of bare", WithPaired("plaintext", Defaults), Ratio("plaintext", Defaults) >= 0.98);
                Goal(report, "#4", "pipelined plaintext RPS >= 1.0x bare", WithPaired(wrkScenarios[1].Name, Defaults), Ratio(wrkScenarios[1].Name, Defaults) >= 1.0);
            }

            foreach (var mode in new[] { "Cork + PerWrite", "Cork + MessageBoundary" })
            {
                foreach (var path in corkPaths)
                {
                    if (corkRuns.TryGetValue((path, mode), out var corked) && corkRuns.TryGetValue((path, "bare Kestrel"), out var bareRuns))
                    {
                        var corkSegments = Median(corked.Select(r => r.Segments));
                        var minimum = Math.Ceiling(Median(corked.Select(r => r.Bytes)) / 1448);
                        Goal(report, "#5", $"{CorkResponse(path)}: {mode} segments per response <= minimum + 1", $"{corkSegments:F2} (minimum {minimum:F0})", corkSegments <= minimum + 1);
                        var maxOver = Median(corked.Select(r => r.Max)) - Median(bareRuns.Select(r => r.Max));
                        Goal(report, "#5", $"{CorkResponse(path)}: {mode} latency max <= bare max + 1 ms", $"{maxOver:+0.00;-0.00} ms", maxOver <= 1);
                    }
                }

                foreach (var path in corkRpsPaths.Where(p => corkRps.ContainsKey((p, mode))))
                {
                    Goal(report, "#5", $"{CorkResponse(path)}: {mode} RPS >= bare (veth)", $"{CorkRpsRatio(path, mode):F2}", CorkRpsRatio(path, mode) >= 1);
                }
            }

            if (vethSegments.TryGetValue(("/chatty-async", "Adaptive + MessageBoundary (library defaults)"), out var segments))
            {
                var perResponse = Median(segments);
                Goal(report, "#4", "async chatty: 5.00 data segments per response (veth)", $"{perResponse:F2}", Math.Abs(perResponse - 5) < 0.01);
            }

            if (vethSends.TryGetValue(("/chatty-async", "Adaptive + MessageBoundary (library defaults)"), out var vethSendCount))
            {
                var perResponse = Median(vethSendCount);
                Goal(report, "#4", "async chatty: 1.00 send per response (veth)", $"{perResponse:F2}", Math.Abs(perResponse - 1) < 0.01);
            }

            if (corkLoad.Count > 0)
            {
                foreach (var (mix, _) in CorkLoadMixes)
                {
                    var bareRate = Median(corkLoad[(mix + "bare Kestrel", "rps")]);
                    var bareGen1 = Median(corkLoad[(mix + "bare Kestrel", "gen1")]);
                    foreach (var (name, _, _) in corkLoadModes.Where(m => m.Name.StartsWith("Cork", StringComparison.Ordinal)))
                    {
                        var key = mix + name;
                        var ratio = Median(corkLoad[(key, "rps")]) / bareRate;
                        Goal(report, "#15", $"{name}, {mix} mix, {CorkLoadConnections} connections: req/s >= 0.95x bare", $"{ratio:F2}x", ratio >= 0.95);
                        Goal(report, "#15", $"{name}, {mix} mix: gen1 collections <= bare's", $"{Median(corkLoad[(key, "gen1")]):F0} (bare {bareGen1:F0})", Median(corkLoad[(key, "gen1")]) <= bareGen1);
                        Goal(report, "#15", $"{name}, {mix} mix: releases at an abort only where wrk cut responses off at the run's end (<= 1 per connection)", $"{Median(corkLoad[(key, "abort")]):F0}", Median(corkLoad[(key, "abort")]) <= CorkLoadConnections);
                    }
                }

                var barePrompt = Median(prompt[("bare Kestrel", "p50")]);
                foreach (var (name, _, _) in corkLoadModes.Where(m => m.Name.StartsWith("Cork", StringComparison.Ordinal)))
                {
                    var p50 = Median(prompt[(name, "p50")]);
                    Goal(report, "#15", $"{name}: a prompt before a body read, p50 <= bare + 1 ms", $"{p50:F3} ms (bare {barePrompt:F3})", p50 <= barePrompt + 1);
                }
            }

            return report.ToString();
        }

        double CorkRpsRatio(string path, string mode) => Median(corkRps[(path, mode)]) / Median(corkRps[(path, "bare Kestrel")]);

        // The ratio of each run to bare Kestrel's run of the same pass (seconds apart, not a whole benchmark apart):
        // what drifts over the benchmark (the VM, the thread pool's mood) cancels out of each pair.
        (double Median, double Low, double High) PairedRatio(string scenario, string mode)
        {
            var ratios = rps[(scenario, mode)].Zip(rps[(scenario, "bare Kestrel")], (value, bare) => value / bare).ToArray();
            return (Median(ratios), ratios.Min(), ratios.Max());
        }
    }
    finally
    {
        veth?.Dispose();
    }
}

static string CorkResponse(string path) => path switch
{
    "/chatty-async" => "64 x 100 B",
    "/kib100" => "100 KiB in 1 KiB writes",
    _ => "1 MiB in 4 KiB writes",
};

static async Task SequentialGetsAsync(Uri address, string path)
{
    using var client = await WriteWriteReadClient.ConnectAsync(address);
    for (var i = 0; i < BenchOptions.SequentialRequests; i++)
    {
        await client.GetAsync(path);
    }
}

static T[] Rotate<T>(T[] items, int round) => items.Skip(round % items.Length).Concat(items.Take(round % items.Length)).ToArray();

// Several passes over the items in one round, each in its own rotation: the i-th runs of any two items are a pair.
static IEnumerable<T> RotatePasses<T>(T[] items, int round, int passes) => Enumerable.Range(0, passes).SelectMany(pass => Rotate(items, round * passes + pass));

static void Add<TKey>(Dictionary<TKey, List<double>> table, TKey key, double value)
    where TKey : notnull
{
    if (!table.TryGetValue(key, out var values))
    {
        table[key] = values = [];
    }

    values.Add(value);
}

static string Cell<TKey>(Dictionary<TKey, List<double>> table, TKey key)
    where TKey : notnull
    => table.TryGetValue(key, out var values) ? Median(values).ToString("F2", CultureInfo.InvariantCulture) : "n/a";

static void Goal(StringBuilder report, string issue, string goal, string measured, bool met)
    => report.AppendLine(CultureInfo.InvariantCulture, $"| {issue} | {goal} | {measured} | {(met ? "yes" : "**no**")} |");

static async Task<RunResult> LatencyAsync(ServerProcess server, Uri address, bool singleSend, int requests)
{
    await server.TakeConnectionsAsync();
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
    var latency = await WriteWriteReadClient.MeasureAsync(address, "/echo", requests, singleSend: singleSend, cancellationToken: timeout.Token);
    var sample = (await server.TakeConnectionsAsync()).Single();
    var intervals = Math.Max(1, sample.Requests - 1);
    return new RunResult(latency, (sample.LastSegmentsOut - sample.FirstSegmentsOut) / (double)intervals, (sample.LastRearms - sample.FirstRearms) / (double)intervals);
}

// The rates of bare Kestrel, the ceiling and the library defaults, and their ratios: the cells of a ceiling table row.
static string CeilingCells(double bare, double ceiling, double defaults)
    => string.Create(CultureInfo.InvariantCulture, $"{bare:F0} | {ceiling:F0} | {defaults:F0} | {ceiling / bare:F2} | {defaults / bare:F2} | {defaults / ceiling:F2} |");

static double Percentile(List<double> values, double fraction)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)(fraction * sorted.Count))];
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static Summary Summarise(List<RunResult> runs) => new(
    Median(runs.Select(r => r.Latency.P50.TotalMilliseconds)),
    Median(runs.Select(r => r.Latency.P99.TotalMilliseconds)),
    Median(runs.Select(r => r.Latency.Max.TotalMilliseconds)),
    Median(runs.Select(r => r.SegmentsPerRequest)),
    Median(runs.Select(r => r.RearmsPerRequest)));

internal sealed record RunResult(LatencySummary Latency, double SegmentsPerRequest, double RearmsPerRequest);

internal sealed record Summary(double P50, double P99, double Max, double Segments, double Rearms);
