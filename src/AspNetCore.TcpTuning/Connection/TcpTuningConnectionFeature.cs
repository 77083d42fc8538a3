using AspNetCore.TcpTuning.Configuration;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The per-connection record of what was set, shared by the listener, connection and HTTP layers.</summary>
internal sealed class TcpTuningConnectionFeature : ITcpTuningFeature
{
    public TcpTuningConnectionFeature(EffectiveTcpProfile profile, IReadOnlyList<string> appliedOptions, IReadOnlyList<string> failedOptions)
    {
        Profile = profile;
        AppliedOptions = appliedOptions;
        FailedOptions = failedOptions;
    }

    public EffectiveTcpProfile Profile { get; }

    /// <inheritdoc />
    public string? EndpointName => Profile.EndpointName;

    /// <inheritdoc />
    public IReadOnlyList<string> AppliedOptions { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SkippedOptions => Profile.UnsupportedKeys;

    /// <inheritdoc />
    public IReadOnlyList<string> FailedOptions { get; }
}
