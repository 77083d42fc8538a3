namespace AspNetCore.TcpTuning;

/// <summary>
/// TCP keep-alive probing of idle connections (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
/// </summary>
/// <remarks>A value left <see langword="null"/> is inherited from <see cref="TcpTuningOptions.Defaults"/>, then from the operating system.</remarks>
public sealed class TcpKeepAliveOptions
{
    /// <summary>Whether keep-alive probes are sent (SO_KEEPALIVE).</summary>
    public bool? Enabled { get; set; }

    /// <summary>How long a connection is idle before the first probe (TCP_KEEPIDLE). Whole seconds from 1 to 32767.</summary>
    public TimeSpan? Idle { get; set; }

    /// <summary>The time between probes (TCP_KEEPINTVL). Whole seconds from 1 to 32767.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>How many unanswered probes close the connection (TCP_KEEPCNT). From 1 to 127.</summary>
    public int? Count { get; set; }
}
