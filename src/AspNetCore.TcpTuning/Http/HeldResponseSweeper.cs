using AspNetCore.TcpTuning.Connection;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Flushes responses whose held bytes have waited <see cref="ResponseFlushPolicy.MaxFlushDelay"/>: one server-wide
/// timer, armed for the earliest such deadline while some response holds bytes.
/// </summary>
internal sealed class HeldResponseSweeper : IDisposable
{
    /// <summary>The least time between two sweeps: deadlines closer than this are met together.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// How much earlier than <see cref="ResponseFlushPolicy.MaxFlushDelay"/> the timer flushes: its own lateness and the
    /// send loop's hop, so that the delay bounds the wait as the client sees it (docs/reliability.md has the figures).
    /// </summary>
    public static readonly TimeSpan LatencyAllowance = TimeSpan.FromMilliseconds(2);

    /// <summary>The delay the timer works to for a configured <paramref name="maxFlushDelay"/>.</summary>
    public static TimeSpan EffectiveDelay(TimeSpan maxFlushDelay)
        => maxFlushDelay > LatencyAllowance ? maxFlushDelay - LatencyAllowance : TimeSpan.Zero;

    private readonly DeadlineSweeper<MessageBoundaryPipeWriter> _sweeper;

    public HeldResponseSweeper(TimeProvider timeProvider)
        => _sweeper = new DeadlineSweeper<MessageBoundaryPipeWriter>(timeProvider, Resolution, static (writer, now) => writer.OnSweep(now));

    /// <summary>Watches <paramref name="writer"/> until it no longer holds bytes; first at <paramref name="deadline"/>.</summary>
    public void Register(MessageBoundaryPipeWriter writer, long deadline) => _sweeper.Watch(writer, deadline);

    public void Dispose() => _sweeper.Dispose();
}
