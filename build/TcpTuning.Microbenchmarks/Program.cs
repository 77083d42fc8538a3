using BenchmarkDotNet.Running;
using TcpTuning.Microbenchmarks;

// Microbenchmarks of the library's per-request cost, without a socket or wrk's noise:
//   dotnet run -c Release --project build/TcpTuning.Microbenchmarks -- --filter '*'
// One row in a steady loop, for perf or for comparing two builds (FlushMiddlewareLoop):
//   dotnet run -c Release --project build/TcpTuning.Microbenchmarks -- loop MessageBoundary chatty 2
if (args is ["loop", ..])
{
    return FlushMiddlewareLoop.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
