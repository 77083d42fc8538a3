namespace AspNetCore.TcpTuning.Platform;

/// <summary>The fields of the kernel's per-connection TCP statistics the library reads, as the kernel reports them.</summary>
internal readonly record struct TcpInfoSnapshot
{
    public long SegmentsOut { get; init; }

    public long SegmentsIn { get; init; }

    public long DataSegmentsOut { get; init; }

    public long DataSegmentsIn { get; init; }

    public long BytesSent { get; init; }

    public long BytesReceived { get; init; }

    public long NotSentBytes { get; init; }

    public long TotalRetransmits { get; init; }

    public int SendMaximumSegmentSize { get; init; }

    public TimeSpan RoundTripTime { get; init; }
}
