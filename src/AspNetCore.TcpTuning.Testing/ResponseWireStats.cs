namespace AspNetCore.TcpTuning.Testing;

/// <summary>How one response left the server, read from the server's own socket (TCP_INFO) once the client had it all.</summary>
public sealed record ResponseWireStats
{
    /// <summary>Segments that carried data, the response's (headers included) and, under HTTPS, the handshake's.</summary>
    public required long DataSegmentsOut { get; init; }

    /// <summary>Bytes the server sent on the connection.</summary>
    public required long BytesOut { get; init; }

    /// <summary>The server's send MSS on the connection.</summary>
    public required int SendMaximumSegmentSize { get; init; }

    /// <summary>The fewest segments those bytes fit in: <see cref="BytesOut"/> over <see cref="SendMaximumSegmentSize"/>, rounded up.</summary>
    public long MinimumSegments => SendMaximumSegmentSize == 0 ? 0 : (BytesOut + SendMaximumSegmentSize - 1) / SendMaximumSegmentSize;
}
