namespace AspNetCore.TcpTuning.Http;

/// <summary>Why the response-flush policy hands held bytes to the wire; <see cref="None"/> holds them.</summary>
internal enum FlushReason
{
    /// <summary>Keep holding.</summary>
    None,

    /// <summary>The message is complete: the app returned, completed the response, or wrote its last declared byte.</summary>
    End,

    /// <summary>The app flushed explicitly (<c>Response.Body.FlushAsync()</c>).</summary>
    Explicit,

    /// <summary><see cref="Configuration.ResponseFlushPolicy.FlushThreshold"/> bytes are held.</summary>
    Threshold,

    /// <summary>The oldest held byte has waited <see cref="Configuration.ResponseFlushPolicy.MaxFlushDelay"/>.</summary>
    Delay,

    /// <summary>The app reads the request body: what it wrote must reach the client before it waits for the client.</summary>
    BeforeRead,

    /// <summary>The app failed: bytes Kestrel would already have sent are sent before Kestrel handles the failure.</summary>
    Error,

    /// <summary>The response turned into a stream (<c>DisableBuffering()</c>): what is held leaves, every write flushes from here on.</summary>
    Stream,
}
