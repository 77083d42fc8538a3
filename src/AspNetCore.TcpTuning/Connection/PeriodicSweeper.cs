using System.Collections.Concurrent;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// One timer for many items that each need looking at until they say they are done: it ticks every
/// <see cref="_period"/> only while some item is registered, so an idle server has no timer running and a busy one
/// has one, instead of a timer re-armed per request (each re-arm can wake the timer thread).
/// </summary>
/// <typeparam name="T">The watched item.</typeparam>
internal sealed class PeriodicSweeper<T> : IDisposable
    where T : class
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly Func<T, bool> _visit;
    private readonly TimeSpan _period;
    private readonly ITimer _timer;
    private int _running;
    private int _sweeping;

    /// <param name="timeProvider">The clock.</param>
    /// <param name="period">The tick.</param>
    /// <param name="visit">Looks at an item on the timer's thread; returns whether to keep watching it.</param>
    public PeriodicSweeper(TimeProvider timeProvider, TimeSpan period, Func<T, bool> visit)
    {
        _visit = visit;
        _period = period;
        _timer = timeProvider.CreateTimer(static state => ((PeriodicSweeper<T>)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Watches <paramref name="item"/> until a visit says it is done.</summary>
    public void Watch(T item)
    {
        _items.Enqueue(item);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _timer.Change(_period, _period);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sweep()
    {
        // The timer may fire again while a sweep is still running; one at a time.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            var count = _items.Count;
            for (var i = 0; i < count && _items.TryDequeue(out var item); i++)
            {
                if (_visit(item))
                {
                    _items.Enqueue(item);
                }
            }

            if (_items.IsEmpty)
            {
                // Stop first, then look again: an item registering meanwhile restarts the timer itself.
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref _running, 0);
                if (!_items.IsEmpty && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
                {
                    _timer.Change(_period, _period);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
