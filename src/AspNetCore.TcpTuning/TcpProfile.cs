namespace AspNetCore.TcpTuning;

/// <summary>
/// The TCP settings of one Kestrel endpoint, or the defaults every endpoint inherits.
/// </summary>
/// <remarks>
/// Every value is optional: a value left <see langword="null"/> on an endpoint is taken from
/// <see cref="TcpTuningOptions.Defaults"/>, and a value left <see langword="null"/> there leaves the
/// operating system's default in place.
/// </remarks>
public sealed class TcpProfile
{
    /// <summary>Disables Nagle's algorithm on accepted sockets (TCP_NODELAY).</summary>
    /// <remarks>Defaults to <see langword="true"/> through <see cref="TcpTuningOptions.Defaults"/>, as Kestrel does.</remarks>
    public bool? NoDelay { get; set; }

    /// <summary>When delayed ACKs are bypassed on accepted sockets (TCP_QUICKACK).</summary>
    /// <remarks>Defaults to <see cref="QuickAckMode.Adaptive"/> through <see cref="TcpTuningOptions.Defaults"/>.</remarks>
    public QuickAckMode? QuickAck { get; set; }

    /// <summary>How response body writes are flushed.</summary>
    /// <remarks>Defaults to <see cref="ResponseFlushMode.MessageBoundary"/> through <see cref="TcpTuningOptions.Defaults"/>.</remarks>
    public ResponseFlushMode? ResponseFlush { get; set; }

    /// <summary>Under <see cref="ResponseFlushMode.MessageBoundary"/>: held bytes that force a flush. From 1 byte to 16 MiB.</summary>
    /// <remarks>Defaults to 65536 (64 KiB); at most this much plus one write is held per response.</remarks>
    public int? FlushThreshold { get; set; }

    /// <summary>Under <see cref="ResponseFlushMode.MessageBoundary"/>: how long the oldest held byte may wait for a flush. From 0 to 1 second.</summary>
    /// <remarks>Defaults to 5 ms, so a handler that writes progress without flushing still streams.</remarks>
    public TimeSpan? MaxFlushDelay { get; set; }

    /// <summary>Under <see cref="ResponseFlushMode.MessageBoundary"/>: whether <c>Response.Body.FlushAsync()</c> flushes at once.</summary>
    /// <remarks>Defaults to <see langword="true"/>.</remarks>
    public bool? HonorExplicitFlush { get; set; }

    /// <summary>
    /// Holds partial segments while an HTTP/1.x response is sent in several pieces, as TCP_CORK would, but in the
    /// library's own send loop: no socket option is set. Linux only (it reads the segment size from TCP_INFO).
    /// </summary>
    /// <remarks>Defaults to <see langword="false"/>.</remarks>
    public bool? Cork { get; set; }

    /// <summary>
    /// Counts the requests whose client waited for this server's delayed ACK (a request sent in two writes with Nagle's
    /// algorithm on) in <c>tcp_tuning.request.stall</c>, and warns about them, at most once a minute per endpoint.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>. It costs a timestamp per read
    /// and a TCP_INFO read where a request arrived incomplete; on an endpoint with QuickAck <c>Default</c> or
    /// <c>OnAccept</c> it adds the input wrapper that <c>Adaptive</c> has anyway.
    /// </remarks>
    public bool? DetectStalls { get; set; }

    /// <summary>The kernel send buffer in bytes (SO_SNDBUF). Linux doubles the value and caps it at net.core.wmem_max.</summary>
    public int? SendBufferSize { get; set; }

    /// <summary>The kernel receive buffer in bytes (SO_RCVBUF), set on the listen socket too so the window scale fits it.</summary>
    public int? ReceiveBufferSize { get; set; }

    /// <summary>TCP keep-alive probing.</summary>
    public TcpKeepAliveOptions? KeepAlive { get; set; }

    /// <summary>How long sent data may stay unacknowledged before the connection is dropped (TCP_USER_TIMEOUT). Whole milliseconds.</summary>
    public TimeSpan? UserTimeout { get; set; }

    /// <summary>Unsent bytes in the kernel above which the socket stops reporting writable (TCP_NOTSENT_LOWAT).</summary>
    public int? NotSentLowWatermark { get; set; }

    /// <summary>The IP type-of-service byte, DSCP and ECN (IP_TOS, IPV6_TCLASS). From 0 to 255; the kernel owns the two ECN bits.</summary>
    public int? TypeOfService { get; set; }

    /// <summary>The congestion-control algorithm (TCP_CONGESTION), one the kernel lists as available.</summary>
    public string? CongestionControl { get; set; }

    /// <summary>Socket options the typed settings lack, set as given (see <see cref="RawSocketOption"/>).</summary>
    /// <remarks>A list is one value: an endpoint's list replaces the one in <see cref="TcpTuningOptions.Defaults"/>.</remarks>
    public IList<RawSocketOption>? RawOptions { get; set; }

    /// <summary>How long closing waits for unsent data (SO_LINGER). Whole seconds; zero makes a close send a reset.</summary>
    public TimeSpan? Linger { get; set; }

    /// <summary>Listen socket: wake the accept only when data arrives, up to this long (TCP_DEFER_ACCEPT). Whole seconds.</summary>
    public TimeSpan? DeferAccept { get; set; }

    /// <summary>Listen socket: the queue length of TCP Fast Open requests (TCP_FASTOPEN).</summary>
    public int? FastOpenQueueLength { get; set; }
}
