namespace AspNetCore.TcpTuning.Http;

/// <summary>How one response's writes are treated, decided once, when its headers are final.</summary>
internal enum ResponseFlushDecision
{
    /// <summary>Not decided yet: the response has not started.</summary>
    Undecided,

    /// <summary>MessageBoundary: ended writes are held until a flush rule fires.</summary>
    Hold,

    /// <summary>PerWrite, or a response with no body to hold: every call goes to Kestrel as it comes.</summary>
    PassThrough,

    /// <summary>Server-sent events, or buffering disabled: every write must reach the wire at once.</summary>
    Stream,
}
