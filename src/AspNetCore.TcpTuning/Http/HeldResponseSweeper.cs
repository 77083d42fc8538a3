using AspNetCore.TcpTuning.Connection;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Flushes responses whose held bytes have waited <see cref="ResponseFlushPolicy.MaxFlushDelay"/>: one server-wide
/// timer, ticking every <see cref="Resolution"/> while some response holds bytes.
/// </summary>
internal sealed class HeldResponseSweeper : IDisposable
{
    /// <summary>The tick: held bytes leave at most this long after their delay.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private readonly PeriodicSweeper<MessageBoundaryPipeWriter> _sweeper;

    public HeldResponseSweeper(TimeProvider timeProvider)
        => _sweeper = new PeriodicSweeper<MessageBoundaryPipeWriter>(timeProvider, Resolution, static writer => writer.OnSweep());

    /// <summary>Watches <paramref name="writer"/> until it no longer holds bytes.</summary>
    public void Register(MessageBoundaryPipeWriter writer) => _sweeper.Watch(writer);

    public void Dispose() => _sweeper.Dispose();
}
