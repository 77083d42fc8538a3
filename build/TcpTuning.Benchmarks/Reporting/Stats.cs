namespace TcpTuning.Benchmarks.Reporting;

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static double Percentile(IReadOnlyList<double> values, double fraction)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(fraction * sorted.Count))];
    }

    /// <summary>The items starting at the round's offset: each configuration runs first in some round.</summary>
    public static T[] Rotate<T>(IReadOnlyList<T> items, int round)
        => items.Skip(round % items.Count).Concat(items.Take(round % items.Count)).ToArray();

    /// <summary>Several passes over the items in one round, each in its own rotation: the i-th runs of any two items are a pair.</summary>
    public static IEnumerable<T> RotatePasses<T>(IReadOnlyList<T> items, int round, int passes)
        => Enumerable.Range(0, passes).SelectMany(pass => Rotate(items, round * passes + pass));
}
