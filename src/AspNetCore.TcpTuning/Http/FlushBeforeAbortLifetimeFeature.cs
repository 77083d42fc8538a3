using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// <c>HttpContext.Abort()</c> that first hands the held bytes to Kestrel: without the policy they would already be on
/// their way, and a client must not see less of an aborted response than it would have.
/// </summary>
internal sealed class FlushBeforeAbortLifetimeFeature : IHttpRequestLifetimeFeature
{
    private readonly MessageBoundaryPipeWriter _response;
    private IHttpRequestLifetimeFeature _inner = null!;

    public FlushBeforeAbortLifetimeFeature(MessageBoundaryPipeWriter response) => _response = response;

    /// <summary>Wraps one request's lifetime feature.</summary>
    public void Initialize(IHttpRequestLifetimeFeature inner) => _inner = inner;

    public CancellationToken RequestAborted
    {
        get => _inner.RequestAborted;
        set => _inner.RequestAborted = value;
    }

    public void Abort()
    {
        _response.FlushBeforeAbort();
        _inner.Abort();
    }
}
