namespace AspNetCore.TcpTuning.Listener;

/// <summary>
/// Carries the settings of <c>ListenOptions.UseTcpTuning</c> to the transport bind that follows.
/// </summary>
/// <remarks>
/// Kestrel builds an endpoint's connection pipeline and then, before building the next one, asks the transport to bind
/// that endpoint (KestrelServerImpl, under its bind lock). The pipeline entry registered by <c>UseTcpTuning</c> offers
/// its settings while being built; the transport takes them in its next <c>BindAsync</c>. Copies Kestrel makes of the
/// options (localhost binds two addresses) build the same entry, so each bind gets the settings.
/// </remarks>
internal sealed class CodeProfileHandoff
{
    private TcpProfile? _pending;

    public void Offer(TcpProfile profile) => Volatile.Write(ref _pending, profile);

    public TcpProfile? Take() => Interlocked.Exchange(ref _pending, null);
}
