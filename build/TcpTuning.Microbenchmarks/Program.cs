using BenchmarkDotNet.Running;

// Microbenchmarks of the library's per-request cost, without a socket or wrk's noise:
//   dotnet run -c Release --project build/TcpTuning.Microbenchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
