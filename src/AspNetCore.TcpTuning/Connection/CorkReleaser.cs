namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The safety net of <see cref="CorkingSendPump"/>: one server-wide timer, ticking only while some pump holds bytes,
/// that has them sent when <see cref="CorkingSendPump.SafetyDelay"/> has passed since the last write without a
/// marked end.
/// </summary>
internal sealed class CorkReleaser : IDisposable
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(1);

    private readonly PeriodicSweeper<CorkingSendPump> _sweeper;

    public CorkReleaser(TimeProvider timeProvider)
        => _sweeper = new PeriodicSweeper<CorkingSendPump>(timeProvider, s_tick, static pump => pump.OnSweep());

    /// <summary>Watches <paramref name="pump"/> while it holds bytes.</summary>
    public void Watch(CorkingSendPump pump) => _sweeper.Watch(pump);

    public void Dispose() => _sweeper.Dispose();
}
