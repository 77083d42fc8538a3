namespace AspNetCore.TcpTuning.Http;

/// <summary>The reasons as the <c>tcp_tuning.response.flush.reason</c> tag gives them.</summary>
internal static class FlushReasonTag
{
    public static string Of(FlushReason reason) => reason switch
    {
        FlushReason.End => "end",
        FlushReason.Explicit => "explicit",
        FlushReason.Threshold => "threshold",
        FlushReason.Delay => "delay",
        FlushReason.BeforeRead => "before_read",
        FlushReason.Error => "error",
        FlushReason.Stream => "stream",
        _ => "none",
    };
}
