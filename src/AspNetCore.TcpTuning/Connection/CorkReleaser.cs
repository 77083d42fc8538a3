using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The hold bound of <see cref="CorkingSendPump"/>: one server-wide timer, armed only while some pump holds bytes, that
/// has them sent when the pump's bound has passed since it began to hold them without a marked end.
/// </summary>
internal sealed class CorkReleaser : IDisposable
{
    // The least time between two sweeps: pumps still holding after a release request are looked at again this soon.
    private static readonly TimeSpan s_minimumInterval = TimeSpan.FromMilliseconds(1);

    private readonly DeadlineSweeper<CorkingSendPump> _sweeper;

    public CorkReleaser(TimeProvider timeProvider)
    {
        _sweeper = new DeadlineSweeper<CorkingSendPump>(timeProvider, s_minimumInterval, static (pump, now) => pump.OnSweep(now), "TcpTuning cork bound");
    }

    /// <summary>Watches <paramref name="pump"/> while it holds bytes; first at <paramref name="deadline"/>.</summary>
    public void Watch(CorkingSendPump pump, long deadline) => _sweeper.Watch(pump, deadline);

    public void Dispose() => _sweeper.Dispose();
}
