namespace AspNetCore.TcpTuning;

/// <summary>
/// Sets how the response body of a controller or action is flushed, overriding the Kestrel endpoint's setting.
/// </summary>
/// <example><c>[ResponseFlush(ResponseFlushMode.PerWrite)]</c> on an action that streams with its own flushes.</example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class ResponseFlushAttribute : Attribute, IResponseFlushMetadata
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="mode">The flush mode.</param>
    public ResponseFlushAttribute(ResponseFlushMode mode) => Mode = mode;

    /// <inheritdoc />
    public ResponseFlushMode Mode { get; }
}
