namespace AspNetCore.TcpTuning;

/// <summary>
/// When the server asks the kernel to acknowledge received data at once instead of delaying the ACK.
/// </summary>
/// <remarks>
/// Delayed ACK holds the acknowledgement of a client's data for up to 40 ms on Linux (200 ms or more elsewhere).
/// A client with Nagle's algorithm on that sends a request in two writes then waits for the ACK of the first
/// before sending the second: every request stalls for the full delay.
/// </remarks>
public enum QuickAckMode
{
    /// <summary>The operating system's behaviour; nothing is set.</summary>
    Default,

    /// <summary>TCP_QUICKACK is set once when the connection is accepted. Linux does not keep it, so this only helps the first exchange.</summary>
    OnAccept,

    /// <summary>TCP_QUICKACK is re-armed after every read: no stall, at the cost of one setsockopt and often one extra pure ACK per read.</summary>
    AfterEachRead,

    /// <summary>TCP_QUICKACK is re-armed only when the server is about to wait for more of a request that arrived incomplete.</summary>
    Adaptive,
}
