using System.Runtime.CompilerServices;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>
/// The xunit VSTest adapter holds one thread-pool worker for the whole run (<c>VsTestRunner.RunTestsInAssembly</c> waits
/// on it). On a two-core machine that leaves the servers under test a single worker before the pool injects more (about
/// two a second), and loopback responses stalled for 0.5 to 2 s under the parallel test classes (seen with
/// dotnet-stack). The floor gives back what the runner takes; production servers have no runner in their pool.
/// </summary>
internal static class TestHostThreadPool
{
    [ModuleInitializer]
    internal static void RaiseFloor()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 4), completionPorts);
    }
}
