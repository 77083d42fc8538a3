using System.Diagnostics;

namespace AspNetCore.TcpTuning.Infrastructure;

/// <summary>
/// A one-shot <see cref="ITimer"/> that waits on a thread of its own, as Kestrel's heartbeat does, instead of in the
/// runtime's timer queue. The queue counts time in the coarse tick (on Linux the kernel's jiffy: 4 ms with HZ=250), so
/// a 3 ms timer there fired 3 ms late about one time in three; a timed wait on a thread is woken by the kernel's
/// high-resolution timers. The hold bounds are a few milliseconds, so that lateness was most of what they
/// overran by (docs/design.md has the figures).
/// </summary>
/// <remarks>
/// The thread starts at the first arming and sleeps, without a timeout, while the timer is not armed. The callback
/// runs on it and must be short: a <see cref="DeadlineSweeper{T}"/> sweep, which starts flushes without awaiting them.
/// </remarks>
internal sealed class DedicatedThreadTimer : ITimer
{
    // Monitor, not Lock: the thread waits on it with a timeout.
    private readonly object _gate = new();
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly string _threadName;
    private Thread? _thread;
    private long _dueAt;
    private bool _disposed;

    public DedicatedThreadTimer(TimerCallback callback, object? state, string threadName)
    {
        _callback = callback;
        _state = state;
        _threadName = threadName;
    }

    /// <summary>Whether the thread has been started (it is, from the first arming until disposal).</summary>
    internal bool HasThread => Volatile.Read(ref _thread) is not null;

    /// <summary>Arms the timer to fire once after <paramref name="dueTime"/>, or disarms it (infinite).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not infinite: only one-shot timers are supported.</exception>
    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(period, Timeout.InfiniteTimeSpan);
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            // 0 means disarmed; a due time of zero or less fires at the next look.
            _dueAt = dueTime == Timeout.InfiniteTimeSpan ? 0 : Math.Max(1, Stopwatch.GetTimestamp() + (long)(Math.Max(0, dueTime.TotalSeconds) * Stopwatch.Frequency));
            if (_dueAt != 0 && _thread is null)
            {
                _thread = new Thread(static state => ((DedicatedThreadTimer)state!).Run())
                {
                    IsBackground = true,
                    Name = _threadName,
                };
                _thread.UnsafeStart(this);
            }

            Monitor.Pulse(_gate);
            return true;
        }
    }

    private void Run()
    {
        while (WaitUntilDue())
        {
            _callback(_state);
        }
    }

    // Waits for the armed due time and disarms; false once disposed.
    private bool WaitUntilDue()
    {
        lock (_gate)
        {
            while (!_disposed)
            {
                if (_dueAt == 0)
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                var remaining = _dueAt - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    _dueAt = 0;
                    return true;
                }

                // Whole milliseconds, rounded up: a wait never ends before the due time it was given.
                Monitor.Wait(_gate, (int)Math.Min(int.MaxValue, (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency));
            }

            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _dueAt = 0;
            Monitor.Pulse(_gate);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }
}
