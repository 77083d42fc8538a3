namespace TcpTuning.Benchmarks.Reporting;

/// <summary>
/// Every value the run measured, one list per (measure, scenario, configuration): the runs of a round are added as they
/// complete, and the report reads medians over the rounds.
/// </summary>
internal sealed class Measurements
{
    private readonly Dictionary<(string Measure, string Scenario, string Configuration), List<double>> _values = [];

    public void Add(string measure, string scenario, string configuration, double value)
    {
        if (!_values.TryGetValue((measure, scenario, configuration), out var values))
        {
            _values[(measure, scenario, configuration)] = values = [];
        }

        values.Add(value);
    }

    public bool Has(string measure, string scenario, string configuration) => _values.ContainsKey((measure, scenario, configuration));

    /// <summary>The values in the order they were added (run by run, so two configurations' i-th values are a pair).</summary>
    public IReadOnlyList<double> Values(string measure, string scenario, string configuration)
        => _values.TryGetValue((measure, scenario, configuration), out var values) ? values : [];

    public double Median(string measure, string scenario, string configuration) => Stats.Median(Values(measure, scenario, configuration));

    /// <summary>The ratio of the medians of two configurations (a goal's verdict).</summary>
    public double MedianRatio(string measure, string scenario, string configuration, string baseline)
        => Median(measure, scenario, configuration) / Median(measure, scenario, baseline);

    /// <summary>The median, formatted, or "n/a" when nothing was measured.</summary>
    public string Cell(string measure, string scenario, string configuration, string format = "F2")
        => Has(measure, scenario, configuration) ? Median(measure, scenario, configuration).ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "n/a";

    /// <summary>
    /// The ratio of each run to the baseline's run of the same pass (seconds apart, not a whole benchmark apart): what
    /// drifts over the benchmark (the VM, the thread pool's mood) cancels out of each pair.
    /// </summary>
    public (double Median, double Low, double High) PairedRatio(string measure, string scenario, string configuration, string baseline)
    {
        var ratios = Values(measure, scenario, configuration).Zip(Values(measure, scenario, baseline), (value, bare) => value / bare).ToArray();
        return ratios.Length == 0 ? (double.NaN, double.NaN, double.NaN) : (Stats.Median(ratios), ratios.Min(), ratios.Max());
    }
}
