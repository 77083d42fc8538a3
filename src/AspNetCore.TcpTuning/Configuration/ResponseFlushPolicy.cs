namespace AspNetCore.TcpTuning.Configuration;

/// <summary>An endpoint's flush settings, resolved once per bind.</summary>
internal sealed record ResponseFlushPolicy(ResponseFlushMode Mode, int FlushThreshold, TimeSpan MaxFlushDelay, bool HonorExplicitFlush)
{
    // A mode left unset (a Defaults replaced in code) is Kestrel's own behaviour; the rest are the library's defaults.
    public static ResponseFlushPolicy From(TcpProfile profile) => new(
        profile.ResponseFlush ?? ResponseFlushMode.PerWrite,
        profile.FlushThreshold ?? TcpTuningDefaults.FlushThreshold,
        profile.MaxFlushDelay ?? TcpTuningDefaults.MaxFlushDelay,
        profile.HonorExplicitFlush ?? TcpTuningDefaults.HonorExplicitFlush);
}
