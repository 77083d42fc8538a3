namespace AspNetCore.TcpTuning.Platform;

/// <summary>
/// Fields of Linux's <c>struct tcp_info</c> (include/uapi/linux/tcp.h): the value is the field's offset, the comment
/// its width and the kernel version that added it (none: older than 4.1).
/// </summary>
internal enum TcpInfoField
{
    Retransmits = 2, // u8
    AckTimeoutMicroseconds = 12, // u32 (tcpi_ato: the delayed-ACK timeout the kernel would use now)
    SendMaximumSegmentSize = 16, // u32
    Lost = 32, // u32
    RoundTripTimeMicroseconds = 68, // u32
    RoundTripTimeVarianceMicroseconds = 72, // u32
    SlowStartThreshold = 76, // u32
    CongestionWindow = 80, // u32
    TotalRetransmits = 100, // u32
    PacingRate = 104, // u64, bytes per second
    BytesAcked = 120, // u64, 4.1
    BytesReceived = 128, // u64, 4.1
    SegmentsOut = 136, // u32, 4.2
    SegmentsIn = 140, // u32, 4.2
    NotSentBytes = 144, // u32, 4.6
    MinRoundTripTimeMicroseconds = 148, // u32, 4.6
    DataSegmentsIn = 152, // u32, 4.6
    DataSegmentsOut = 156, // u32, 4.6
    DeliveryRate = 160, // u64, bytes per second, 4.9
    BusyTimeMicroseconds = 168, // u64, 4.10
    ReceiveWindowLimitedMicroseconds = 176, // u64, 4.10
    SendBufferLimitedMicroseconds = 184, // u64, 4.10
    BytesSent = 200, // u64, 5.5
}
