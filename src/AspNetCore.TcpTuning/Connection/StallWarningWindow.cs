namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Rate-limits one endpoint's stall warning: the first stall warns at once, later ones are summed and warned about
/// together once <see cref="Interval"/> has passed since the last warning. Pure: the caller gives the time.
/// </summary>
internal sealed class StallWarningWindow
{
    /// <summary>The least time between two warnings of an endpoint.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly long _interval;
    private long _lastWarning;
    private bool _warned;
    private int _count;
    private TimeSpan _total;

    /// <param name="timestampFrequency">Ticks per second of the timestamps given to <see cref="Record"/>.</param>
    public StallWarningWindow(long timestampFrequency)
        => _interval = (long)(Interval.TotalSeconds * timestampFrequency);

    /// <summary>Counts a stall at <paramref name="now"/>: the warning to log now, if any.</summary>
    public StallWarning? Record(long now, TimeSpan delay)
    {
        lock (_lock)
        {
            _count++;
            _total += delay;
            if (_warned && now - _lastWarning < _interval)
            {
                return null;
            }

            var warning = new StallWarning(_count, _total / _count);
            _warned = true;
            _lastWarning = now;
            _count = 0;
            _total = TimeSpan.Zero;
            return warning;
        }
    }
}

/// <summary>Stalls since the last warning, and their mean delay.</summary>
internal readonly record struct StallWarning(int Count, TimeSpan TypicalDelay);
