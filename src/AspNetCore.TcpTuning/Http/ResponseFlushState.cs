using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The per-response objects of the flush policy, and what they replaced. An HTTP/1.x connection serves one response
/// at a time, so it keeps one instance (in the connection feature) and reuses it; HTTP/2 streams get their own.
/// </summary>
internal sealed class ResponseFlushState : IDisposable
{
    private IHttpResponseBodyFeature _originalResponseBody = null!;
    private Stream? _originalRequestBody;
    private object? _originalRequestPipe;
    private object? _originalFlushFeature;
    private bool _canHaveBody;
    private TcpTuningConnectionFeature? _owner;
    private bool _watchesConnectionEnd;

    public ResponseFlushState(TimeProvider timeProvider, HeldResponseSweeper sweeper, TcpTuningMetrics? metrics)
    {
        ResponseBody = new MessageBoundaryResponseBodyFeature(timeProvider, sweeper, metrics);
        RequestBody = new FlushBeforeReadRequestBodyFeature(ResponseBody.BoundaryWriter);
    }

    public MessageBoundaryResponseBodyFeature ResponseBody { get; }

    public FlushBeforeReadRequestBodyFeature RequestBody { get; }

    /// <summary>Whether the connection shows <see cref="ResponseBody"/> as every request's <see cref="IResponseFlushFeature"/>.</summary>
    public bool SharedWithConnection { get; set; }

    /// <summary>
    /// Installs the policy's features for one response and marks its beginning for a corking send side.
    /// <paramref name="routesOverride"/>: whether any route sets its own flush mode. <paramref name="owner"/>: the
    /// connection to give this state back to when the response ends, if any.
    /// </summary>
    public void Begin(HttpContext context, IHttpResponseBodyFeature responseBody, ResponseFlushPolicy policy, bool routesOverride, ITcpCorkControl? cork, TcpTuningConnectionFeature? owner)
    {
        // Only a request that can have a body can be read while response bytes are held.
        _canHaveBody = (context.Features[typeof(IHttpRequestBodyDetectionFeature)] as IHttpRequestBodyDetectionFeature)?.CanHaveBody != false;
        _originalResponseBody = responseBody;
        _owner = owner;
        if (owner is not null && !_watchesConnectionEnd)
        {
            WatchConnectionEnd(context);
        }

        ResponseBody.Initialize(context, responseBody, policy, routesOverride, cork);
        context.Features[typeof(IHttpResponseBodyFeature)] = ResponseBody;
        if (!SharedWithConnection)
        {
            _originalFlushFeature = context.Features[typeof(IResponseFlushFeature)];
            context.Features[typeof(IResponseFlushFeature)] = ResponseBody;
        }
        if (_canHaveBody)
        {
            _originalRequestBody = context.Request.Body;
            _originalRequestPipe = context.Features[typeof(IRequestBodyPipeFeature)];
            RequestBody.Initialize(_originalRequestBody, context.Request.BodyReader);
            context.Request.Body = RequestBody.Body;
            context.Features[typeof(IRequestBodyPipeFeature)] = RequestBody;
        }

        cork?.BeginMessage();
    }

    // The connection keeps this state for its next response: the hold buffer may keep a block between responses, and
    // gives it back when the connection ends (where the server cannot tell, it keeps none).
    private void WatchConnectionEnd(HttpContext context)
    {
        _watchesConnectionEnd = true;
        if (context.Features[typeof(IConnectionCompleteFeature)] is IConnectionCompleteFeature connection)
        {
            connection.OnCompleted(static state =>
            {
                ((ResponseFlushState)state).ResponseBody.BoundaryWriter.ReleaseSpareBlock();
                return Task.CompletedTask;
            }, this);
            ResponseBody.BoundaryWriter.KeepSpareBlock();
        }
    }

    /// <summary>The app is done: the message ends (after <c>CompleteAsync</c> its end is marked already).</summary>
    public ValueTask EndMessageAsync() => ResponseBody.BoundaryWriter.EndMessageAsync(markEnd: !ResponseBody.Completed);

    /// <summary>
    /// Puts the server's features back and lets go of the response. When the end was not marked (the app failed),
    /// Kestrel writes an error response or aborts; either way its next flush, if any, ends the message.
    /// </summary>
    public void End(HttpContext context, bool endMarked)
    {
        if (!endMarked)
        {
            ResponseBody.BoundaryWriter.Cork?.EndMessage(atNextFlush: true);
        }

        if (_owner is not null)
        {
            // Kept for the connection's next response; a state not kept is disposed, which ends the writer too.
            ResponseBody.BoundaryWriter.EndWithoutFlush();
        }

        Release(context);
    }

    /// <summary>
    /// Puts the server's features back and gives this state back to its connection (else disposes it), once the writer
    /// has ended the response (<see cref="End"/>, or <see cref="MessageBoundaryPipeWriter.TryEndUnheld"/>).
    /// </summary>
    public void Release(HttpContext context)
    {
        RestoreFeatures(context);
        var owner = _owner;
        _owner = null;
        if (owner is not null)
        {
            owner.ReturnResponseState(this);
        }
        else
        {
            Dispose();
        }
    }

    private void RestoreFeatures(HttpContext context)
    {
        context.Features[typeof(IHttpResponseBodyFeature)] = _originalResponseBody;
        if (!SharedWithConnection)
        {
            context.Features[typeof(IResponseFlushFeature)] = _originalFlushFeature;
            _originalFlushFeature = null;
        }

        ResponseBody.BoundaryWriter.UnhookAbort();
        if (_canHaveBody)
        {
            context.Request.Body = _originalRequestBody!;
            context.Features[typeof(IRequestBodyPipeFeature)] = _originalRequestPipe;
            _originalRequestBody = null;
            _originalRequestPipe = null;
        }
    }

    public void Dispose() => ResponseBody.Dispose();
}
