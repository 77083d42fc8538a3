using TcpTuning.Benchmarks;

// Side-by-side benchmark of bare Kestrel and the library's settings, in one run, alternating rounds (--help lists the
// options and the subcommands). The full run quotes its command line in the report.
return await BenchOptions.CreateCommand(args, options => FullRun.RunAsync(options, args)).Parse(args).InvokeAsync();
