using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Applies the response-flush policy of the connection's endpoint (or of the route) to each request.
/// </summary>
/// <remarks>Upgraded requests (WebSockets) and extended CONNECT pass through untouched.</remarks>
internal sealed class ResponseFlushMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ResponseFlushPolicy _defaults;
    private readonly TimeProvider _timeProvider;

    public ResponseFlushMiddleware(RequestDelegate next, IOptions<TcpTuningOptions> options, TimeProvider timeProvider)
    {
        _next = next;
        _defaults = ResponseFlushPolicy.From(options.Value.Defaults);
        _timeProvider = timeProvider;
    }

    public Task Invoke(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true
            || context.Features.Get<IHttpResponseBodyFeature>() is not { } responseBody)
        {
            return _next(context);
        }

        // The connection layer hands over the endpoint's policy; connections it did not tune (Unix sockets) use the defaults.
        var policy = (context.Features.Get<ITcpTuningFeature>() as TcpTuningConnectionFeature)?.Profile.ResponseFlush ?? _defaults;
        return InvokeCore(context, responseBody, policy);
    }

    private async Task InvokeCore(HttpContext context, IHttpResponseBodyFeature originalResponseBody, ResponseFlushPolicy policy)
    {
        var originalRequestBody = context.Request.Body;
        var originalRequestPipe = context.Features.Get<IRequestBodyPipeFeature>();
        using var responseBody = new MessageBoundaryResponseBodyFeature(context, originalResponseBody, policy, _timeProvider);
        context.Features.Set<IHttpResponseBodyFeature>(responseBody);
        var requestBody = new FlushBeforeReadRequestBodyFeature(originalRequestBody, context.Request.BodyReader, responseBody.BoundaryWriter);
        context.Request.Body = requestBody.Body;
        context.Features.Set<IRequestBodyPipeFeature>(requestBody);

        try
        {
            await _next(context).ConfigureAwait(false);
            await responseBody.BoundaryWriter.EndMessageAsync().ConfigureAwait(false);
        }
        catch when (responseBody.BoundaryWriter.HeldBytes > 0 && !context.RequestAborted.IsCancellationRequested)
        {
            // Send what a per-write response would already have sent; Kestrel then ends the response as it would.
            await responseBody.BoundaryWriter.FlushNowAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            context.Features.Set(originalResponseBody);
            context.Request.Body = originalRequestBody;
            context.Features.Set(originalRequestPipe);
        }
    }
}
