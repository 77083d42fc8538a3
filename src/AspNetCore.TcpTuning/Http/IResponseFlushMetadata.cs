namespace AspNetCore.TcpTuning;

/// <summary>
/// Endpoint metadata that sets how the endpoint's response body is flushed, overriding the Kestrel endpoint's
/// <see cref="TcpProfile.ResponseFlush"/>.
/// </summary>
public interface IResponseFlushMetadata
{
    /// <summary>The flush mode for responses of this endpoint.</summary>
    ResponseFlushMode Mode { get; }
}
