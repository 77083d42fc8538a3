namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// The library's defaults, in one place: what <see cref="TcpTuningOptions.Defaults"/> starts with, and the flush
/// policy's values for keys an endpoint leaves unset. The documentation states them from here.
/// </summary>
internal static class TcpTuningDefaults
{
    public const bool NoDelay = true;

    public const QuickAckMode QuickAck = QuickAckMode.Adaptive;

    public const ResponseFlushMode ResponseFlush = ResponseFlushMode.MessageBoundary;

    public const int FlushThreshold = 64 * 1024;

    public const bool HonorExplicitFlush = true;

    public const bool DetectStalls = true;

    public static readonly TimeSpan MaxFlushDelay = TimeSpan.FromMilliseconds(5);
}
