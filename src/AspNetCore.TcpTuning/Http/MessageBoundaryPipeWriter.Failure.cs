using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

// Failure and abort paths: Kestrel is given the state it would have had without the writer.
internal sealed partial class MessageBoundaryPipeWriter
{
    /// <summary>
    /// The app aborts the request while the response holds (this hook is installed once bytes stayed held). The held
    /// bytes are flushed first, after a flush of the policy still in flight, and <paramref name="inner"/> aborts once
    /// that completed and one hop later: without the policy those bytes would have had the send loop's time since their
    /// write, and even bytes the policy flushed just now lose the race to the reset without it. Until then the response
    /// takes no more bytes and does not end. Returns false when the response does not hold: abort at once.
    /// </summary>
    public bool TryAbortAfterHeld(IHttpRequestLifetimeFeature inner)
    {
        using (Sync())
        {
            if (!Holding || _ended || Aborting)
            {
                return Aborting;
            }

            if (InFlight(out var background))
            {
                _pendingAbort = AbortAfterBackgroundAsync(background, inner);
                return true;
            }

            _pendingAbort = AbortAfterAsync(FlushHeldForAbort(), inner);
        }

        return true;
    }

    // Under _sync: what is ended leaves; the tail, which Kestrel would still buffer, is dropped with the connection.
    private ValueTask<FlushResult> FlushHeldForAbort()
    {
        var flush = _policy.Held > 0 ? FlushEnded(FlushReason.Explicit, CancellationToken.None) : default;
        _buffer.Clear();
        return flush;
    }

    private async Task AbortAfterBackgroundAsync(Task background, IHttpRequestLifetimeFeature inner)
    {
        await background.ConfigureAwait(false);
        ValueTask<FlushResult> flush;
        using (Locked())
        {
            flush = FlushHeldForAbort();
        }

        await AbortAfterAsync(flush, inner).ConfigureAwait(false);
    }

    // Kestrel cancels RequestAborted on the thread pool after an abort too, so the app sees no new ordering.
    private static async Task AbortAfterAsync(ValueTask<FlushResult> flush, IHttpRequestLifetimeFeature inner)
    {
        await ObserveAsync(flush).ConfigureAwait(false);
        await Task.Yield();
        inner.Abort();
    }

    /// <summary>Puts the server's lifetime feature back, if bytes were held and <see cref="HookAbort"/> replaced it.</summary>
    public void UnhookAbort()
    {
        if (_originalLifetime is not null)
        {
            _context.Features[typeof(IHttpRequestLifetimeFeature)] = _originalLifetime;
            _originalLifetime = null;
        }
    }

    /// <summary>
    /// The app failed: Kestrel is given the state it would have had without this writer (the ended bytes flushed, the
    /// rest buffered), then handles the failure as it would.
    /// </summary>
    public ValueTask FailAsync()
    {
        if (_pendingAbort is { } abort)
        {
            return new ValueTask(abort);
        }

        using (Sync())
        {
            if (InFlight(out var background))
            {
                return new ValueTask(FailAfterAsync(background));
            }

            var materialized = Materialize(FlushReason.Error);
            _ended = true;
            return materialized;
        }
    }

    // Gives Kestrel the state it would have without this writer: ended bytes flushed (one counted write), then the tail
    // buffered unflushed. The tail waits for that flush: handed over during it, Kestrel's ConcurrentPipeWriter would
    // flush it too (or drop it, if the connection closes first). The caller awaits the result before it goes on. Under _sync.
    private ValueTask Materialize(FlushReason reason)
    {
        if (!Holding || _ended || Aborting)
        {
            return default;
        }

        var flush = _policy.Held > 0 ? FlushEnded(reason, CancellationToken.None) : default;
        if (flush.IsCompletedSuccessfully)
        {
            CommitTail();
            return default;
        }

        return new ValueTask(CommitTailAfterAsync(flush));
    }

    private async Task CommitTailAfterAsync(ValueTask<FlushResult> flush)
    {
        await ObserveAsync(flush).ConfigureAwait(false);
        using (Locked())
        {
            CommitTail();
        }
    }

    // Under _sync.
    private void CommitTail()
    {
        var tail = _buffer.Tail;
        if (!tail.IsEmpty)
        {
            CommitToKestrel(tail);
            _kestrelBytes += tail.Length;
        }

        _buffer.ConsumeAll(_memoryOutstanding);
    }

    // Where the caller cannot wait (a synchronous call): everything held goes to Kestrel's buffer in order, then one
    // flush if ended bytes were held (a tail Kestrel would still buffer leaves with them; the response is failing or
    // streaming from here on). Under _sync.
    private ValueTask<FlushResult> CommitAllThenFlush(FlushReason reason)
    {
        if (!Holding || _ended || Aborting)
        {
            return default;
        }

        var flush = _policy.Held > 0 || _kestrelBytes > 0;
        if (flush && reason is FlushReason.Explicit or FlushReason.Stream)
        {
            _cork?.Push();
        }

        CommitToKestrel(_buffer.All);
        _buffer.ConsumeAll(_memoryOutstanding);
        OnHandedOver(reason);
        return flush ? _inner.Writer.FlushAsync() : default;
    }

    // The first time a write returns with bytes held, HttpContext.Abort() starts to hand them over first (responses
    // that never hold, most small ones, keep the server's feature). On the app's thread, like the app's own feature use.
    private void HookAbort()
    {
        if (_originalLifetime is null && _context.Features[typeof(IHttpRequestLifetimeFeature)] is IHttpRequestLifetimeFeature lifetime)
        {
            _originalLifetime = lifetime;
            _abortHook ??= new FlushBeforeAbortLifetimeFeature(this);
            _abortHook.Initialize(lifetime);
            _context.Features[typeof(IHttpRequestLifetimeFeature)] = _abortHook;
        }
    }
}
