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

    /// <summary>The mode and, for <see cref="ResponseFlushMode.MessageBoundary"/>, its settings, as the start-up log shows them.</summary>
    public string Describe() => Mode == ResponseFlushMode.MessageBoundary
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"MessageBoundary (FlushThreshold {FlushThreshold}, MaxFlushDelay {MaxFlushDelay:c}, HonorExplicitFlush {HonorExplicitFlush})")
        : Mode.ToString();
}
