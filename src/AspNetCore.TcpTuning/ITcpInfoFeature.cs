namespace AspNetCore.TcpTuning;

/// <summary>
/// Reads the connection's TCP statistics live (Linux TCP_INFO). Available from <c>ConnectionContext.Features</c> and
/// <c>HttpContext.Features</c> for TCP connections the library tuned.
/// </summary>
/// <example>
/// <code>
/// if (context.Features.Get&lt;ITcpInfoFeature&gt;()?.TryRead(out var info) == true)
/// {
///     logger.LogInformation("rtt {Rtt}, cwnd {Cwnd}, retransmits {Retransmits}", info.RoundTripTime, info.CongestionWindow, info.TotalRetransmits);
/// }
/// </code>
/// </example>
public interface ITcpInfoFeature
{
    /// <summary>Reads the statistics now.</summary>
    /// <param name="info">The snapshot, when this returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> where the platform has no TCP_INFO, or once the connection is closed.</returns>
    bool TryRead(out TcpConnectionInfo info);
}
