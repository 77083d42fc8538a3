namespace AspNetCore.TcpTuning.Infrastructure;

/// <summary>
/// One timer for many items that each have a deadline (a <see cref="TimeProvider"/> timestamp), armed for the earliest
/// deadline rather than ticking: an idle server runs no timer, a busy one wakes about once per deadline's length. Each
/// sweep visits every item until it says it is done; sweeps are at least <c>minimumInterval</c> apart.
/// </summary>
/// <typeparam name="T">The watched item.</typeparam>
internal sealed class DeadlineSweeper<T> : IDisposable
    where T : class
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly Func<T, long, long> _visit;
    private readonly long _minimumInterval;
    private readonly ITimer _timer;
    private List<T> _items = [];
    private List<T> _spare = [];
    private bool _isSweeping;
    private long _armedFor;
    private long _earliestWatchedWhileSweeping = long.MaxValue;
    private long _lastSweep;

    /// <param name="timeProvider">The clock.</param>
    /// <param name="minimumInterval">The least time between two sweeps: deadlines closer than this share one.</param>
    /// <param name="visit">
    /// Looks at an item on the timer's thread, given the time now: acts if its deadline has passed, and returns its
    /// next deadline, or 0 when it is done.
    /// </param>
    /// <param name="threadName">The name of the timer's thread, on the system clock.</param>
    public DeadlineSweeper(TimeProvider timeProvider, TimeSpan minimumInterval, Func<T, long, long> visit, string threadName)
    {
        _timeProvider = timeProvider;
        _visit = visit;
        _minimumInterval = ToTimestampTicks(timeProvider, minimumInterval);
        TimerCallback sweep = static state => ((DeadlineSweeper<T>)state!).Sweep();
        // The system's timers fire up to a coarse tick late (DedicatedThreadTimer): on the system clock, a thread of its own.
        _timer = ReferenceEquals(timeProvider, TimeProvider.System)
            ? new DedicatedThreadTimer(sweep, this, threadName)
            : timeProvider.CreateTimer(sweep, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A span of time in <paramref name="timeProvider"/>'s timestamp ticks.</summary>
    public static long ToTimestampTicks(TimeProvider timeProvider, TimeSpan span)
        => (long)(span.TotalSeconds * timeProvider.TimestampFrequency);

    /// <summary>Watches <paramref name="item"/>, to be looked at once <paramref name="deadline"/> has passed.</summary>
    public void Watch(T item, long deadline)
    {
        lock (_lock)
        {
            _items.Add(item);

            if (_isSweeping)
            {
                // The sweep arms the timer for everything when it ends.
                _earliestWatchedWhileSweeping = Math.Min(_earliestWatchedWhileSweeping, deadline);
            }
            else if (_armedFor == 0 || deadline < _armedFor)
            {
                Arm(deadline);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    // Under _lock.
    private void Arm(long deadline)
    {
        deadline = Math.Max(deadline, _lastSweep + _minimumInterval);
        _armedFor = deadline;
        // Rounded up to whole milliseconds: the system timer truncates, and a due time of 0.9 ms would fire at once and,
        // re-armed from that sweep, again and again.
        var dueIn = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), deadline);
        _timer.Change(dueIn > TimeSpan.Zero ? TimeSpan.FromMilliseconds(Math.Ceiling(dueIn.TotalMilliseconds)) : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void Sweep()
    {
        List<T> batch;
        long now;
        lock (_lock)
        {
            // One sweep at a time. A watch with an earlier deadline can re-arm the timer between its firing and this
            // lock: that second firing finds this sweep running, which visits the watched item and arms the timer anew.
            if (_isSweeping)
            {
                return;
            }

            _isSweeping = true;
            _armedFor = 0;
            batch = _items;
            _items = _spare;
            now = _timeProvider.GetTimestamp();
            _lastSweep = now;
        }

        // Visits run outside the lock: they take the items' own locks, which the app's threads hold when they watch.
        var earliest = long.MaxValue;
        var kept = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch[i];
            var next = _visit(item, now);
            if (next != 0)
            {
                batch[kept++] = item;
                earliest = Math.Min(earliest, next);
            }
        }

        batch.RemoveRange(kept, batch.Count - kept);

        lock (_lock)
        {
            _isSweeping = false;
            earliest = Math.Min(earliest, _earliestWatchedWhileSweeping);
            _earliestWatchedWhileSweeping = long.MaxValue;
            _items.AddRange(batch);
            batch.Clear();
            _spare = batch;
            if (_items.Count > 0)
            {
                Arm(earliest);
            }
        }
    }
}
