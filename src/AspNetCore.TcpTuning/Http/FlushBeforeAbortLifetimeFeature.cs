using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// <c>HttpContext.Abort()</c> that first hands the held bytes to Kestrel: without the policy they would already be on
/// their way, and a client must not see less of an aborted response than it would have. When it held bytes, the abort
/// takes effect once their flush has completed, not at once.
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
        if (_response.FlushBeforeAbort() is { } flush)
        {
            // Without the policy those bytes were flushed at their write, and the send loop had the time until the abort
            // to send them: give it that time (the flush, then one hop of the thread pool) before the abort cuts it.
            _ = AbortAfterAsync(flush, _inner);
            return;
        }

        _inner.Abort();
    }

    // Kestrel cancels RequestAborted on the thread pool after an abort too, so the app sees no new ordering.
    private static async Task AbortAfterAsync(Task flush, IHttpRequestLifetimeFeature inner)
    {
        await flush.ConfigureAwait(false);
        await Task.Yield();
        inner.Abort();
    }
}
