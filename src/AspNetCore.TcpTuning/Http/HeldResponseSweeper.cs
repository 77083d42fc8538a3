using System.Collections.Concurrent;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Flushes responses whose held bytes have waited <see cref="ResponseFlushPolicy.MaxFlushDelay"/>. One timer for the
/// whole server, ticking only while some response holds bytes: a timer per response would be re-armed on every
/// request and wake the timer thread each time.
/// </summary>
internal sealed class HeldResponseSweeper : IDisposable
{
    /// <summary>The tick: held bytes leave at most this long after their delay.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private readonly ConcurrentQueue<MessageBoundaryPipeWriter> _holding = new();
    private readonly ITimer _timer;
    private int _running;
    private int _sweeping;

    public HeldResponseSweeper(TimeProvider timeProvider)
        => _timer = timeProvider.CreateTimer(static state => ((HeldResponseSweeper)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>Watches <paramref name="writer"/> until it no longer holds bytes.</summary>
    public void Register(MessageBoundaryPipeWriter writer)
    {
        _holding.Enqueue(writer);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _timer.Change(Resolution, Resolution);
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
            var count = _holding.Count;
            for (var i = 0; i < count && _holding.TryDequeue(out var writer); i++)
            {
                if (writer.OnSweep())
                {
                    _holding.Enqueue(writer);
                }
            }

            if (_holding.IsEmpty)
            {
                // Stop first, then look again: a writer registering meanwhile restarts the timer itself.
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref _running, 0);
                if (!_holding.IsEmpty && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
                {
                    _timer.Change(Resolution, Resolution);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
