using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The per-response objects of the flush policy. An HTTP/1.x connection serves one response at a time, so it keeps one
/// instance (in the connection feature) and reuses it; HTTP/2 streams get their own.
/// </summary>
internal sealed class ResponseFlushState : IDisposable
{
    public ResponseFlushState(TimeProvider timeProvider, HeldResponseSweeper sweeper)
    {
        ResponseBody = new MessageBoundaryResponseBodyFeature(timeProvider, sweeper);
        RequestBody = new FlushBeforeReadRequestBodyFeature(ResponseBody.BoundaryWriter);
    }

    public MessageBoundaryResponseBodyFeature ResponseBody { get; }

    public FlushBeforeReadRequestBodyFeature RequestBody { get; }

    public void Initialize(HttpContext context, IHttpResponseBodyFeature responseBody, ResponseFlushPolicy policy, ITcpCorkControl? cork, bool canHaveBody)
    {
        ResponseBody.Initialize(context, responseBody, policy, cork);
        if (canHaveBody)
        {
            RequestBody.Initialize(context.Request.Body, context.Request.BodyReader);
        }
    }

    public void Dispose() => ResponseBody.Dispose();
}
