namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The safety net of <see cref="CorkingSendPump"/>: one server-wide timer, armed only while some pump holds bytes,
/// that has them sent when <see cref="CorkingSendPump.SafetyDelay"/> has passed since the last write without a
/// marked end.
/// </summary>
internal sealed class CorkReleaser : IDisposable
{
    // The least time between two sweeps: pumps still holding after a release request are looked at again this soon.
    private static readonly TimeSpan s_minimumInterval = TimeSpan.FromMilliseconds(1);

    private readonly DeadlineSweeper<CorkingSendPump> _sweeper;

    public CorkReleaser(TimeProvider timeProvider)
    {
        SafetyDelayTicks = DeadlineSweeper<CorkingSendPump>.ToTimestampTicks(timeProvider, CorkingSendPump.SafetyDelay);
        _sweeper = new DeadlineSweeper<CorkingSendPump>(timeProvider, s_minimumInterval, static (pump, now) => pump.OnSweep(now));
    }

    /// <summary><see cref="CorkingSendPump.SafetyDelay"/> in the clock's timestamp ticks.</summary>
    public long SafetyDelayTicks { get; }

    /// <summary>Watches <paramref name="pump"/> while it holds bytes, held since <paramref name="heldSince"/>.</summary>
    public void Watch(CorkingSendPump pump, long heldSince) => _sweeper.Watch(pump, heldSince + SafetyDelayTicks);

    public void Dispose() => _sweeper.Dispose();
}
