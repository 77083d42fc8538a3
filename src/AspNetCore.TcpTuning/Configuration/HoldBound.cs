namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// The one bound on how long the stack holds a byte (the flush policy and the corking send side alike): an endpoint's
/// <c>MaxFlushDelay</c>, worked to less a latency allowance, so that the client sees the delay, not the delay plus the
/// timer's lateness and the send loop's hop (docs/reliability.md has the figures).
/// </summary>
internal static class HoldBound
{
    /// <summary>How much earlier than <c>MaxFlushDelay</c> the timers release held bytes.</summary>
    public static readonly TimeSpan LatencyAllowance = TimeSpan.FromMilliseconds(2);

    /// <summary>The delay the timers work to for a configured <paramref name="maxFlushDelay"/>.</summary>
    public static TimeSpan Effective(TimeSpan maxFlushDelay)
        => maxFlushDelay > LatencyAllowance ? maxFlushDelay - LatencyAllowance : TimeSpan.Zero;
}
