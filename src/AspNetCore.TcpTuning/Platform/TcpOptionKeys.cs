namespace AspNetCore.TcpTuning.Platform;

/// <summary>Maps each option to its configuration key below a profile, as users write it.</summary>
internal static class TcpOptionKeys
{
    public static string Of(TcpOption option) => option switch
    {
        TcpOption.KeepAlive => "KeepAlive:Enabled",
        TcpOption.KeepAliveIdle => "KeepAlive:Idle",
        TcpOption.KeepAliveInterval => "KeepAlive:Interval",
        TcpOption.KeepAliveCount => "KeepAlive:Count",
        _ => option.ToString(),
    };
}
