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
    /// The response streams from here (an explicit flush, a server-sent event, a write after <c>DisableBuffering()</c>):
    /// nothing more of it is held. Not just the next flush: below HTTP, TLS writes one flush as several records, each
    /// its own flush, and the tail of a pushed piece would otherwise wait.
    /// </summary>
    void Push();

    /// <summary>
    /// The app waits for the peer (a request-body read that did not complete at once): what is held leaves now, and so
    /// do the next bytes if none are held yet (a prompt or Kestrel's <c>100 Continue</c> may still be on its way
    /// through TLS). Bytes after that send are corked again.
    /// </summary>
    void SendHeldNow();

    /// <summary>
    /// The response ends: at the bytes written so far, or, when <paramref name="atNextFlush"/>, at the next flush
    /// (Kestrel still writes the chunked terminator or the headers and flushes them).
    /// </summary>
    void EndMessage(bool atNextFlush);
}
