namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// Fields of Linux's <c>struct tcp_info</c> (include/uapi/linux/tcp.h): the value is the field's offset, the comment
/// its width and the kernel version that added it.
/// </summary>
internal enum TcpInfoField
{
    SendMaximumSegmentSize = 16, // u32
    RoundTripTimeMicroseconds = 68, // u32
    TotalRetransmits = 100, // u32
    BytesReceived = 128, // u64, 4.1
    SegmentsOut = 136, // u32, 4.2
    SegmentsIn = 140, // u32, 4.2
    NotSentBytes = 144, // u32, 4.6
    DataSegmentsIn = 152, // u32, 4.6
    DataSegmentsOut = 156, // u32, 4.6
    BytesSent = 200, // u64, 5.5
}
