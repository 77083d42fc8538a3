namespace AspNetCore.TcpTuning;

/// <summary>
/// How response body writes are flushed to the connection.
/// </summary>
public enum ResponseFlushMode
{
    /// <summary>Kestrel's behaviour: every write is flushed.</summary>
    PerWrite,

    /// <summary>Writes are held and flushed at the end of the HTTP message, on an explicit flush, or when a threshold is reached.</summary>
    MessageBoundary,
}
