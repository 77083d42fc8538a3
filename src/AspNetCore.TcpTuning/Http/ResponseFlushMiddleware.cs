using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Configuration;
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
    // The last request's feature collection on this thread and its connection's feature. Kestrel's collection belongs to
    // one connection (HTTP/1.x) or to a pooled stream of one connection (HTTP/2), so the same collection means the same
    // connection; pipelined and back-to-back requests skip the lookup of a feature Kestrel does not know (a walk of its
    // whole table, then of the connection's). A thread keeps its last connection's feature until it serves another.
    // One thread-static: each is a lookup of the thread's storage.
    [ThreadStatic]
    private static LastConnection t_last;

    private readonly RequestDelegate _next;
    private readonly TcpTuningOptionsState _state;
    private ResponseFlushPolicy _defaults;
    private int _defaultsVersion;
    private readonly TimeProvider _timeProvider;
    private readonly HeldResponseSweeper _sweeper;
    private readonly RouteFlushOverrides _routes;
    private readonly TcpTuningMetrics _metrics;

    public ResponseFlushMiddleware(RequestDelegate next, TcpTuningOptionsState state, TimeProvider timeProvider, HeldResponseSweeper sweeper, RouteFlushOverrides routes, TcpTuningMetrics metrics)
    {
        _metrics = metrics;
        _next = next;
        _state = state;
        _defaults = ResponseFlushPolicy.From(state.Current.Defaults);
        _defaultsVersion = state.Version;
        _timeProvider = timeProvider;
        _sweeper = sweeper;
        _routes = routes;
    }

    public Task Invoke(HttpContext context)
    {
        // The non-generic indexer: IFeatureCollection.Get<T> is a generic interface call, measurably slower per request.
        var features = context.Features;

        // The connection layer hands over the endpoint's policy; connections it did not tune (Unix sockets) use the defaults.
        var connection = ConnectionOf(features);
        connection?.OnResponse();
        var policy = connection?.Profile.ResponseFlush ?? Defaults();
        var holds = policy.Mode != ResponseFlushMode.PerWrite || _routes.AnyRouteHoldsWrites;

        // Kestrel's behaviour, no route asks for more, and no send side to tell: nothing to do.
        if (!holds && connection?.Cork is null)
        {
            return _next(context);
        }

        // Read from the feature, not HttpContext.Request: the context caches what it reads until the swap below
        // invalidates it, and the app would then read it again.
        var protocol = (features[typeof(IHttpRequestFeature)] as IHttpRequestFeature)?.Protocol ?? context.Request.Protocol;
        var http1 = HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol);

        // An upgrade is HTTP/1.x's and extended CONNECT HTTP/2's and HTTP/3's (RFC 8441, 9220): each is asked its own.
        if ((http1
                ? (features[typeof(IHttpUpgradeFeature)] as IHttpUpgradeFeature)?.IsUpgradableRequest == true
                : (features[typeof(IHttpExtendedConnectFeature)] as IHttpExtendedConnectFeature)?.IsExtendedConnect == true)
            || features[typeof(IHttpResponseBodyFeature)] is not IHttpResponseBodyFeature responseBody)
        {
            return _next(context);
        }

        // Cork: the send side needs the message boundaries of HTTP/1.x responses (never HTTP/2: streams interleave),
        // and, with PerWrite too, the points where bytes must leave at once (explicit flushes, events): the writer tells it.
        var cork = connection?.Cork is { } control && HttpProtocol.IsHttp11(protocol) ? control : null;
        if (!holds && cork is null)
        {
            return _next(context);
        }

        return InvokeCore(context, responseBody, connection, policy, cork, http1);
    }

    private static TcpTuningConnectionFeature? ConnectionOf(IFeatureCollection features)
    {
        ref var last = ref t_last;
        if (ReferenceEquals(features, last.Features))
        {
            return last.Connection;
        }

        var connection = features[typeof(ITcpTuningFeature)] as TcpTuningConnectionFeature;
        if (connection is not null)
        {
            last = new LastConnection(features, connection);
        }

        return connection;
    }

    private readonly record struct LastConnection(IFeatureCollection Features, TcpTuningConnectionFeature Connection);

    // The defaults' policy, for connections the library did not tune (Unix sockets), as the options are now.
    private ResponseFlushPolicy Defaults()
    {
        var version = _state.Version;
        if (version != _defaultsVersion)
        {
            _defaults = ResponseFlushPolicy.From(_state.Current.Defaults);
            _defaultsVersion = version;
        }

        return _defaults;
    }

    private Task InvokeCore(HttpContext context, IHttpResponseBodyFeature originalResponseBody, TcpTuningConnectionFeature? connection, ResponseFlushPolicy policy, ITcpCorkControl? cork, bool http1)
    {
        // HTTP/1.x: one response at a time per connection, so its state is reused; HTTP/2 streams run concurrently.
        // Asked as "is it 1.x" rather than "is it not 2 or 3": Kestrel's HTTP/1.1 string is the constant, found by reference.
        var reusable = connection is not null && http1;
        var state = reusable ? connection!.TakeResponseState<ResponseFlushState>() : null;
        if (state is null)
        {
            state = new ResponseFlushState(_timeProvider, _sweeper, _metrics);
            // The connection keeps this state: its IResponseFlushFeature is shared once, not set and removed per request
            // (a feature Kestrel does not know costs a walk of its whole feature table per lookup).
            state.SharedWithConnection = reusable && connection!.TryShareWithRequests(state.ResponseBody);
        }

        state.Begin(context, originalResponseBody, policy, _routes.AnyRouteOverrides, cork, reusable ? connection : null);
        var writer = state.ResponseBody.BoundaryWriter;

        Task handler;
        writer.BeginSynchronousPhase();
        try
        {
            handler = _next(context);
        }
        catch (Exception ex)
        {
            handler = Task.FromException(ex);
        }

        // A handler that finished synchronously (most small responses) ends its message without an async state machine,
        // still in the synchronous phase.
        if (handler.IsCompletedSuccessfully)
        {
            if (writer.TryEndUnheld())
            {
                state.Release(context);
                return Task.CompletedTask;
            }

            ValueTask end;
            try
            {
                end = state.EndMessageAsync();
            }
            catch
            {
                writer.EndSynchronousPhase();
                state.End(context, endMarked: true);
                throw;
            }

            if (end.IsCompletedSuccessfully)
            {
                // Still in the synchronous phase: the writer lets go of the response without its lock.
                state.End(context, endMarked: true);
                writer.EndSynchronousPhase();
                return Task.CompletedTask;
            }

            writer.EndSynchronousPhase();
            return AwaitEndAsync(context, state, end);
        }

        writer.EndSynchronousPhase();
        if (!handler.IsCompleted)
        {
            // Bytes held from here on may wait on something the app awaits: the delay timer watches them.
            writer.WatchHeldBytes();
        }

        return AwaitHandlerAsync(context, state, handler);
    }

    private static async Task AwaitEndAsync(HttpContext context, ResponseFlushState state, ValueTask end)
    {
        try
        {
            await end.ConfigureAwait(false);
        }
        finally
        {
            state.End(context, endMarked: true);
        }
    }

    private static async Task AwaitHandlerAsync(HttpContext context, ResponseFlushState state, Task handler)
    {
        var writer = state.ResponseBody.BoundaryWriter;
        var endMarked = false;
        try
        {
            await handler.ConfigureAwait(false);
            endMarked = true;
            await state.EndMessageAsync().ConfigureAwait(false);
        }
        catch when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel is given what it would have had (the ended writes flushed, the rest buffered), then handles the
            // failure as it would: a 500 if nothing was sent, else it closes the connection.
            await writer.FailAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            state.End(context, endMarked);
        }
    }
}
