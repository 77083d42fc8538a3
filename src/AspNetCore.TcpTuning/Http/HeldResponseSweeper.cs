using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Flushes responses whose held bytes have waited <see cref="Configuration.ResponseFlushPolicy.MaxFlushDelay"/>: one server-wide
/// timer, armed for the earliest such deadline while some response holds bytes.
/// </summary>
internal sealed class HeldResponseSweeper : IDisposable
{
    /// <summary>The least time between two sweeps: deadlines closer than this are met together.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private readonly DeadlineSweeper<MessageBoundaryPipeWriter> _sweeper;
    private readonly DeadlineSweeper<SynchronousDeadline> _synchronous;

    public HeldResponseSweeper(TimeProvider timeProvider)
    {
        _sweeper = new DeadlineSweeper<MessageBoundaryPipeWriter>(timeProvider, Resolution, static (writer, now) => writer.OnSweep(now), "TcpTuning flush delay");
        _synchronous = new DeadlineSweeper<SynchronousDeadline>(timeProvider, Resolution, static (deadline, now) => deadline.OnSweep(now), "TcpTuning synchronous deadline");
    }

    /// <summary>Watches <paramref name="writer"/> until it no longer holds bytes; first at <paramref name="deadline"/>.</summary>
    public void Register(MessageBoundaryPipeWriter writer, long deadline) => _sweeper.Watch(writer, deadline);

    /// <summary>Raises <paramref name="flag"/> once its deadline, first <paramref name="deadline"/>, has passed.</summary>
    public void Register(SynchronousDeadline flag, long deadline) => _synchronous.Watch(flag, deadline);

    public void Dispose()
    {
        _sweeper.Dispose();
        _synchronous.Dispose();
    }
}
