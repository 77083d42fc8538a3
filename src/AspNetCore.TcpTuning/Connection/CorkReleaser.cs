using System.Collections.Concurrent;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The safety net of <see cref="CorkingSendPump"/>: one server-wide timer, ticking only while some connection is
/// corked, that releases corks held longer than <see cref="CorkingSendPump.SafetyDelay"/> without a marked end.
/// </summary>
internal sealed class CorkReleaser : IDisposable
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(1);

    private readonly ConcurrentQueue<CorkingSendPump> _corked = new();
    private readonly ITimer _timer;
    private int _running;
    private int _sweeping;

    public CorkReleaser(TimeProvider timeProvider)
        => _timer = timeProvider.CreateTimer(static state => ((CorkReleaser)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    public void Watch(CorkingSendPump pump)
    {
        _corked.Enqueue(pump);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _timer.Change(s_tick, s_tick);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            var count = _corked.Count;
            for (var i = 0; i < count && _corked.TryDequeue(out var pump); i++)
            {
                if (pump.CorkedTooLong)
                {
                    pump.RequestRelease();
                }
                else if (pump.IsCorked)
                {
                    _corked.Enqueue(pump);
                }
            }

            if (_corked.IsEmpty)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref _running, 0);
                if (!_corked.IsEmpty && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
                {
                    _timer.Change(s_tick, s_tick);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
