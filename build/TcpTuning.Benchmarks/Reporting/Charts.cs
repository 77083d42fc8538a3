using System.Globalization;
using ScottPlot;

namespace TcpTuning.Benchmarks.Reporting;

/// <summary>
/// The report's pictures, as SVG files beside it (ScottPlot): each draws numbers the report's tables also give.
/// </summary>
internal sealed class Charts(string directory)
{
    private const int Width = 820;
    private const int Height = 440;

    /// <summary>The folder the charts go to, relative to the report (for its image links).</summary>
    public string RelativeDirectory { get; } = Path.GetFileName(directory);

    /// <summary>
    /// The cumulative distribution of request latencies, one line per configuration; a log-scaled latency axis when
    /// the lines lie orders of magnitude apart (the stall against none on loopback).
    /// </summary>
    public string LatencyDistribution(string file, string title, IEnumerable<(string Name, IReadOnlyList<double> Milliseconds)> series)
    {
        var lines = series.Where(s => s.Milliseconds.Count > 0).ToArray();
        var all = lines.SelectMany(s => s.Milliseconds).Where(v => v > 0).ToArray();
        var logScale = all.Length > 0 && all.Max() / all.Min() > 100;
        var plot = new Plot();
        foreach (var (name, milliseconds) in lines)
        {
            var sorted = milliseconds.Order().ToArray();
            var xs = sorted.Select(v => logScale ? Math.Log10(Math.Max(v, 1e-3)) : v).ToArray();
            var ys = Enumerable.Range(1, sorted.Length).Select(i => 100.0 * i / sorted.Length).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = name;
            line.LineWidth = 2;
        }

        if (logScale)
        {
            var decades = Enumerable.Range((int)Math.Floor(Math.Log10(all.Min())), (int)Math.Ceiling(Math.Log10(all.Max())) - (int)Math.Floor(Math.Log10(all.Min())) + 1).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                decades.Select(d => (double)d).ToArray(),
                decades.Select(d => Math.Pow(10, d).ToString("0.###", CultureInfo.InvariantCulture)).ToArray());
        }

        plot.Title(title);
        plot.XLabel(logScale ? "latency, ms (log scale)" : "latency, ms");
        plot.YLabel("requests at or below, %");
        plot.Axes.SetLimitsY(0, 101);
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, file);
    }

    /// <summary>Grouped bars: for each response, each configuration's value.</summary>
    public string GroupedBars(string file, string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<(string Name, double[] Values)> series, double? goal = null, string? goalLabel = null)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / series.Count;
        for (var s = 0; s < series.Count; s++)
        {
            var bars = series[s].Values.Select((value, g) => new Bar
            {
                Position = g + (s - (series.Count - 1) / 2.0) * width,
                Value = double.IsNaN(value) ? 0 : value,
                Size = width * 0.9,
                FillColor = palette.GetColor(s),
            }).ToArray();
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = palette.GetColor(s) });
        }

        if (goal is { } value)
        {
            var line = plot.Add.HorizontalLine(value);
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = goalLabel ?? string.Empty;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(g => (double)g).ToArray(), groups.ToArray());
        // Head room above the tallest bar for the legend.
        var top = series.SelectMany(s => s.Values).Where(v => !double.IsNaN(v)).Append(goal ?? 0).Max();
        plot.Axes.SetLimitsY(0, top * (1 + 0.12 * (series.Count + 1)));
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return Save(plot, file);
    }

    private string Save(Plot plot, string file)
    {
        Directory.CreateDirectory(directory);
        plot.SaveSvg(Path.Combine(directory, file), Width, Height);
        return $"{RelativeDirectory}/{file}";
    }
}
