namespace AspNetCore.TcpTuning.Configuration;

/// <summary>An endpoint's flush settings, resolved once per bind.</summary>
internal sealed record ResponseFlushPolicy(ResponseFlushMode Mode, int FlushThreshold, TimeSpan MaxFlushDelay, bool HonorExplicitFlush)
{
    public const int DefaultFlushThreshold = 64 * 1024;
    public static readonly TimeSpan DefaultMaxFlushDelay = TimeSpan.FromMilliseconds(5);

    public static ResponseFlushPolicy From(TcpProfile profile) => new(
        profile.ResponseFlush ?? ResponseFlushMode.PerWrite,
        profile.FlushThreshold ?? DefaultFlushThreshold,
        profile.MaxFlushDelay ?? DefaultMaxFlushDelay,
        profile.HonorExplicitFlush ?? true);
}
