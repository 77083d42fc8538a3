namespace AspNetCore.TcpTuning.Platform;

/// <summary>The socket options this library sets, and the TCP capabilities it relies on, independent of the operating system.</summary>
internal enum TcpOption
{
    NoDelay,
    QuickAck,
    Cork,
    SendBufferSize,
    ReceiveBufferSize,
    KeepAlive,
    KeepAliveIdle,
    KeepAliveInterval,
    KeepAliveCount,
    UserTimeout,
    NotSentLowWatermark,
    TypeOfService,
    CongestionControl,
    Linger,
    DeferAccept,
    FastOpenQueueLength,

    // A raw option from configuration: level and name travel with the setting.
    Raw,
}
