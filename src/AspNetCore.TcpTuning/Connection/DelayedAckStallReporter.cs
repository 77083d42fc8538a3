using System.Collections.Concurrent;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Counts one endpoint's delayed-ACK stalls (<c>tcp_tuning.request.stall</c>) and warns about them, at most once a
/// minute per endpoint, naming the fix. <see cref="Registry.For"/> hands out one per endpoint, kept across reloads.
/// </summary>
internal sealed class DelayedAckStallReporter
{
    private readonly TcpTuningMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string? _endpointName;
    private readonly string _fix;
    private readonly StallWarningWindow _window;

    private DelayedAckStallReporter(TcpTuningMetrics metrics, ILogger logger, TimeProvider timeProvider, TcpPlatform platform, EffectiveTcpProfile profile)
    {
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _endpointName = profile.EndpointName;
        _window = new StallWarningWindow(timeProvider.TimestampFrequency);
        _fix = platform.Supports(TcpOption.QuickAck)
            ? $"Set {profile.KeyPrefix}:QuickAck to Adaptive: the server then acknowledges at once when a request is incomplete."
            : $"QuickAck is not available on {platform.Name}: the clients avoid the stall by disabling Nagle's algorithm (TCP_NODELAY) or sending each request in one write.";
    }

    public void OnStall(TimeSpan delay)
    {
        _metrics.RequestStalled(_endpointName);
        if (_window.Record(_timeProvider.GetTimestamp(), delay) is { } warning)
        {
            TcpTuningLog.DelayedAckStalls(_logger, _endpointName ?? "(unnamed)", warning.Count, Math.Round(warning.TypicalDelay.TotalMilliseconds, 1), _fix);
        }
    }

    /// <summary>The reporters of an app's endpoints.</summary>
    internal sealed class Registry(TcpTuningMetrics metrics, ILogger<DelayedAckStallReporter> logger, TimeProvider timeProvider, TcpPlatform platform)
    {
        private readonly ConcurrentDictionary<string, DelayedAckStallReporter> _reporters = new(StringComparer.Ordinal);

        /// <summary>The reporter of <paramref name="profile"/>'s endpoint (the first profile of an endpoint names its fix).</summary>
        public DelayedAckStallReporter For(EffectiveTcpProfile profile)
            => _reporters.GetOrAdd(profile.KeyPrefix, static (_, state) => new DelayedAckStallReporter(state.metrics, state.logger, state.timeProvider, state.platform, state.profile), (metrics, logger, timeProvider, platform, profile));
    }
}
