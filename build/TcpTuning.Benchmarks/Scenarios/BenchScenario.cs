using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// One part of the full run: what it measures (its runs in each round, interleaved with the other scenarios' on the two
/// shared servers, or a run of its own after the rounds), the report section it writes and the goals it checks.
/// </summary>
internal abstract class BenchScenario(BenchContext context)
{
    protected BenchContext Context { get; } = context;

    /// <summary>The name <c>--scenario</c> selects it by: the class name without "Scenario", in kebab case.</summary>
    public string Name => string.Concat(GetType().Name.Replace("Scenario", "", StringComparison.Ordinal).Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    protected Measurements Measured => Context.Measurements;

    /// <summary>Runs once, before the first round (not measured).</summary>
    public virtual Task WarmUpAsync() => Task.CompletedTask;

    /// <summary>This scenario's runs in one round, on the shared servers.</summary>
    public virtual Task RunRoundAsync(int round) => Task.CompletedTask;

    /// <summary>Runs after every round of every scenario: for measurements that need processes or load of their own.</summary>
    public virtual Task RunAloneAsync() => Task.CompletedTask;

    public abstract void WriteReport(ReportWriter report);

    public virtual IEnumerable<Goal> Goals() => [];
}
