using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// <c>HttpContext.Abort()</c> that first hands the held bytes to Kestrel: without the policy they would already be on
/// their way, and a client must not see less of an aborted response than it would have. When bytes were held, the
/// abort takes effect once their flush has completed (<see cref="MessageBoundaryPipeWriter.TryAbortAfterHeld"/>).
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
        if (!_response.TryAbortAfterHeld(_inner))
        {
            _inner.Abort();
        }
    }
}
