namespace AspNetCore.TcpTuning;

/// <summary>
/// What TCP tuning did to a connection. Available from <c>ConnectionContext.Features</c> and <c>HttpContext.Features</c>
/// for TCP connections accepted by Kestrel's socket transport.
/// </summary>
public interface ITcpTuningFeature
{
    /// <summary>The Kestrel named endpoint whose settings apply, or <see langword="null"/> when the defaults or code settings apply.</summary>
    string? EndpointName { get; }

    /// <summary>The configuration keys applied to the socket, such as <c>NoDelay</c> or <c>KeepAlive:Idle</c>.</summary>
    IReadOnlyList<string> AppliedOptions { get; }

    /// <summary>The configuration keys skipped because the platform lacks them.</summary>
    IReadOnlyList<string> SkippedOptions { get; }

    /// <summary>The configuration keys whose setsockopt failed, for example because the peer had already reset the connection.</summary>
    IReadOnlyList<string> FailedOptions { get; }

    /// <summary>The QuickAck mode in effect on this connection (<see cref="QuickAckMode.Default"/> where the platform lacks TCP_QUICKACK).</summary>
    QuickAckMode QuickAck { get; }

    /// <summary>How many times TCP_QUICKACK was re-armed on this connection so far.</summary>
    long QuickAckRearms { get; }

    /// <summary>
    /// The endpoint's response-flush mode (a route or the response itself may choose another: <see cref="IResponseFlushFeature"/>).
    /// </summary>
    ResponseFlushMode ResponseFlush { get; }

    /// <summary>Whether this connection's sends are corked (<see cref="TcpProfile.Cork"/> on a platform that has it).</summary>
    bool Cork { get; }
}
