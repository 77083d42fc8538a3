namespace AspNetCore.TcpTuning.Connection;

/// <summary>How the HTTP layer tells the connection's send side where its messages begin and end.</summary>
internal interface ITcpCorkControl
{
    /// <summary>
    /// An HTTP/1.x response begins: its sends may be corked. Anything written before belongs to the previous response,
    /// whose end this marks if it was not marked.
    /// </summary>
    void BeginMessage();

    /// <summary>
    /// The bytes written so far must leave at the next flush, though the response goes on: an explicit flush, a
    /// server-sent event, a write after <c>DisableBuffering()</c>.
    /// </summary>
    void Push();

    /// <summary>
    /// The response ends: at the bytes written so far, or, when <paramref name="atNextFlush"/>, at the next flush
    /// (Kestrel still writes the chunked terminator or the headers and flushes them).
    /// </summary>
    void EndMessage(bool atNextFlush);
}
