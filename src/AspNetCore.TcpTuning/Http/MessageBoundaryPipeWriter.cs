using System.Buffers;
using System.IO.Pipelines;
using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The response body writer of the message-boundary flush policy. Writes go into Kestrel's own output buffer (no
/// extra copy) and are flushed only when the message ends, when the app flushes explicitly, when
/// <see cref="ResponseFlushPolicy.FlushThreshold"/> bytes are held, or <see cref="ResponseFlushPolicy.MaxFlushDelay"/>
/// after the oldest held byte. A write that completes a Content-Length body is the end of the message: it goes
/// through Kestrel's own write, which flushes it (with anything held) at once, as the app's last write would.
/// Held writes are copied into one span of Kestrel's buffer and advanced together when something needs them there (a
/// flush, the end, the app's own <see cref="GetMemory"/>, a write past the declared length): Kestrel's
/// <c>GetSpan</c> and <c>Advance</c> each take its output lock, twice per write otherwise.
/// </summary>
/// <remarks>
/// <see cref="FlushAsync"/> on this writer ends a write, not a message: <c>HttpResponse.WriteAsync</c> calls it after
/// every write. An explicit flush is <c>Response.Body.FlushAsync()</c>. The delay timer flushes from another thread,
/// so it and the app's calls into Kestrel's writer are serialised by <see cref="_sync"/>, and it never flushes
/// between the app's <see cref="GetMemory"/> and <see cref="Advance"/> (a flush there would commit a chunk the app is
/// still writing into). The timer is the server-wide <see cref="HeldResponseSweeper"/>, and it watches a response
/// only once its handler has gone asynchronous (<see cref="WatchHeldBytes"/>): a handler that runs to completion
/// synchronously ends its message before any delay could matter, and most responses never wake the timer. For the
/// same reason the calls a handler makes before it first goes asynchronous skip the lock
/// (<see cref="BeginSynchronousPhase"/>).
/// </remarks>
internal sealed class MessageBoundaryPipeWriter : PipeWriter, IDisposable
{
    private readonly Lock _sync = new();
    private readonly TimeProvider _timeProvider;
    private readonly HeldResponseSweeper _sweeper;
    private HttpContext _context = null!;
    private IHttpResponseBodyFeature _inner = null!;
    private ResponseFlushPolicy _policy = null!;
    private ITcpCorkControl? _cork;
    private bool _routesOverride;

    private Decision _decision;
    private bool _memoryOutstanding;
    private bool _ended;
    private bool _started;
    private long _declaredLength;
    private long _held;
    private long _bodyBytes;
    private long _oldestHeldTimestamp;
    private Memory<byte> _pending;
    private int _pendingCount;
    private bool _canBatch;
    private bool _registered;
    private bool _watched;
    private int _synchronousThreadId;

    public MessageBoundaryPipeWriter(TimeProvider timeProvider, HeldResponseSweeper sweeper)
    {
        _timeProvider = timeProvider;
        _sweeper = sweeper;
    }

    /// <summary>
    /// Starts a response; the writer is reused for the next response of an HTTP/1.x connection.
    /// <paramref name="routesOverride"/>: whether any route sets its own flush mode (else the endpoint's applies).
    /// </summary>
    public void Initialize(HttpContext context, IHttpResponseBodyFeature inner, ResponseFlushPolicy policy, bool routesOverride, ITcpCorkControl? cork)
    {
        // Only the sweeper runs beside the app, and only while it holds this writer (it clears _registered under the
        // lock when it lets go; only this side sets it): a writer it never held needs no lock, the common case.
        if (Volatile.Read(ref _registered))
        {
            lock (_sync)
            {
                Reset(context, inner, policy, routesOverride, cork);
            }
        }
        else
        {
            Reset(context, inner, policy, routesOverride, cork);
        }
    }

    private void Reset(HttpContext context, IHttpResponseBodyFeature inner, ResponseFlushPolicy policy, bool routesOverride, ITcpCorkControl? cork)
    {
        _context = context;
        _routesOverride = routesOverride;
        _cork = cork;
        _inner = inner;
        _policy = policy;
        _decision = Decision.Undecided;
        _memoryOutstanding = false;
        _ended = false;
        _started = false;
        _watched = false;
        _held = 0;
        _bodyBytes = 0;
        _pending = default;
        _pendingCount = 0;
        _canBatch = false;
    }

    private enum Decision
    {
        Undecided,

        /// <summary>MessageBoundary: writes are held.</summary>
        Hold,

        /// <summary>PerWrite: every write is flushed (a corking send side may still fill segments with them).</summary>
        PassThrough,

        /// <summary>Server-sent events, or buffering disabled: every flush must reach the wire at once.</summary>
        Stream,
    }

    /// <summary>The connection's corking send side, when the response is HTTP/1.x on a <c>Cork</c> endpoint.</summary>
    public ITcpCorkControl? Cork => _cork;

    /// <summary>Bytes written but not flushed by this policy.</summary>
    public long HeldBytes
    {
        get
        {
            using (Sync())
            {
                return _held;
            }
        }
    }

    public override bool CanGetUnflushedBytes => _inner.Writer.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.Writer.UnflushedBytes + _pendingCount;

    private bool Holding
    {
        get
        {
            if (_decision == Decision.Undecided)
            {
                _decision = Decide();
            }

            return _decision == Decision.Hold;
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        using (Sync())
        {
            CommitPending();
            _memoryOutstanding = true;
            return _inner.Writer.GetMemory(sizeHint);
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        using (Sync())
        {
            CommitPending();
            _memoryOutstanding = true;
            return _inner.Writer.GetSpan(sizeHint);
        }
    }

    public override void Advance(int bytes)
    {
        using (Sync())
        {
            _inner.Writer.Advance(bytes);
            _memoryOutstanding = false;
            _bodyBytes += bytes;
            if (Holding)
            {
                NoteHeld(bytes);
            }
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!Holding)
        {
            TellSendSide(0);
            return _inner.Writer.FlushAsync(cancellationToken);
        }

        // The last byte of a Content-Length body is in: the message is complete.
        if (EndsMessage(0))
        {
            return FlushNowAsync(cancellationToken);
        }

        // Bytes written through GetMemory before the response started: start it as Kestrel's flush would have.
        return HasStarted ? FlushIfDueAsync(cancellationToken) : StartAndFlushIfDueAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (!Holding)
        {
            if (_cork is not null)
            {
                TellSendSide(source.Length);
                _bodyBytes += source.Length;
            }

            return _inner.Writer.WriteAsync(source, cancellationToken);
        }

        // The send side learns the end now, not when the handler returns: the flush below carries the last byte.
        if (EndsMessage(source.Length))
        {
            // Kestrel writes (and on a first write, starts the response with) these bytes and flushes what is held too.
            using (Sync())
            {
                CommitPending();
                _held = 0;
                _bodyBytes += source.Length;
                return _inner.Writer.WriteAsync(source, cancellationToken);
            }
        }

        return HasStarted ? WriteStarted(source, cancellationToken) : StartAndWriteAsync(source, cancellationToken);
    }

    public override void CancelPendingFlush() => _inner.Writer.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        CommitHeld();
        _inner.Writer.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        CommitHeld();
        return _inner.Writer.CompleteAsync(exception);
    }

    /// <summary>
    /// Puts held bytes into Kestrel's buffer, unflushed, before something writes to Kestrel around this writer
    /// (the server's own stream, for synchronous writes).
    /// </summary>
    public void CommitHeld()
    {
        using (Sync())
        {
            CommitPending();
        }
    }

    /// <summary>An explicit flush (<c>Response.Body.FlushAsync()</c>): honoured unless the policy says otherwise.</summary>
    public ValueTask<FlushResult> ExplicitFlushAsync(CancellationToken cancellationToken)
    {
        if (!Holding || _policy.HonorExplicitFlush)
        {
            _cork?.Push();
            return FlushNowAsync(cancellationToken);
        }

        return FlushIfDueAsync(cancellationToken);
    }

    /// <summary><c>DisableBuffering()</c>: from here on every write flushes, held bytes with the next one.</summary>
    public void DisableBuffering()
    {
        using (Sync())
        {
            CommitPending();
            _decision = Decision.Stream;
        }
    }

    /// <summary>Flushes whatever is held, now.</summary>
    public ValueTask<FlushResult> FlushNowAsync(CancellationToken cancellationToken = default)
    {
        using (Sync())
        {
            CommitPending();
            _held = 0;
            return _inner.Writer.FlushAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The message is ending (the app returned or completed the response): stops the delay timer and, when
    /// <paramref name="markEnd"/>, tells a corking send side which flush ends it. Kestrel's chunked terminator flush
    /// carries held bytes with it; other framings are flushed here, because Kestrel flushes a Content-Length body at
    /// its end only if it wrote bytes itself since the last flush.
    /// </summary>
    public ValueTask EndMessageAsync(bool markEnd)
    {
        long held;
        using (Sync())
        {
            CommitPending();
            _ended = true;
            held = _held;
        }

        if (markEnd)
        {
            // The end is the flush of what is held, or Kestrel's own last flush.
            _cork?.EndMessage(atNextFlush: held > 0 || HttpMessageFraming.EndsWithKestrelFlush(_context));
        }

        if (held > 0 && !HttpMessageFraming.IsHttp1Chunked(_context))
        {
            var flush = FlushNowAsync();
            return flush.IsCompletedSuccessfully ? default : AwaitFlush(flush);
        }

        return default;

        static async ValueTask AwaitFlush(ValueTask<FlushResult> flush) => await flush.ConfigureAwait(false);
    }

    /// <summary>
    /// The middleware is about to run the handler on this thread. Until <see cref="EndSynchronousPhase"/>, only this
    /// thread can reach the writer: the sweeper holds a writer only once the handler has gone asynchronous, and a
    /// continuation of the handler runs on another thread or after the phase ended. So the app's calls skip the lock
    /// (four per small response), unless the sweeper still holds the writer from the connection's previous response.
    /// </summary>
    public void BeginSynchronousPhase()
    {
        // Only this side sets _registered, and only once watched: seen false here, it stays false for the phase.
        if (!Volatile.Read(ref _registered))
        {
            _synchronousThreadId = Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>The handler returned or went asynchronous: from here on every call takes the lock.</summary>
    public void EndSynchronousPhase() => _synchronousThreadId = 0;

    /// <summary>
    /// The handler went asynchronous: from now on held bytes are watched by the delay timer. Until then the handler's
    /// own writes check the delay (a synchronous handler's thread is busy producing, and its end flushes).
    /// </summary>
    public void WatchHeldBytes()
    {
        lock (_sync)
        {
            _watched = true;
            if (_held > 0)
            {
                RegisterUnderLock();
            }
        }
    }

    /// <summary>Ends the response without flushing (it is over, or failed): the sweeper lets go of this writer.</summary>
    public void EndWithoutFlush()
    {
        // Set only on the app's side (this call, EndMessageAsync, Initialize): already ended needs no lock.
        if (_ended)
        {
            return;
        }

        using (Sync())
        {
            // Only a failed or aborted response gets here with bytes still pending (a flush or the end commits
            // them): Kestrel will not send it on, so they are dropped with it.
            _pending = default;
            _pendingCount = 0;
            _ended = true;
        }
    }

    public void Dispose() => EndWithoutFlush();

    // Only while undecided: DisableBuffering() decides PassThrough itself.
    private Decision Decide()
    {
        // Server-sent events are a stream of messages: each write is one and must leave at once.
        var contentType = _context.Response.ContentType;
        if (contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return Decision.Stream;
        }

        var mode = _routesOverride ? _context.GetEndpoint()?.Metadata.GetMetadata<IResponseFlushMetadata>()?.Mode ?? _policy.Mode : _policy.Mode;
        return mode == ResponseFlushMode.MessageBoundary ? Decision.Hold : Decision.PassThrough;
    }

    private async ValueTask<FlushResult> StartAndWriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        // Start the response as Kestrel's first write would (OnStarting, headers, framing), without flushing it.
        await _inner.StartAsync(cancellationToken).ConfigureAwait(false);

        // Reads, now that the headers are final, the declared length and whether the body may be batched.
        _ = HasStarted;
        return await WriteStarted(source, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<FlushResult> WriteStarted(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        if (!_canBatch || ExceedsBody(source.Length))
        {
            return WriteThroughAsync(source, cancellationToken);
        }

        return CopyHeld(source.Span) ? FlushNowAsync(cancellationToken) : HeldResult(cancellationToken);
    }

    private async ValueTask<FlushResult> StartAndFlushIfDueAsync(CancellationToken cancellationToken)
    {
        await _inner.StartAsync(cancellationToken).ConfigureAwait(false);
        return await FlushIfDueAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="source"/> into Kestrel's buffer and holds it; returns whether a flush is due.</summary>
    private bool CopyHeld(ReadOnlySpan<byte> source)
    {
        using (Sync())
        {
            var total = source.Length;
            while (!source.IsEmpty)
            {
                if (_pendingCount == _pending.Length)
                {
                    CommitPending();
                    _pending = _inner.Writer.GetMemory(1);
                }

                var count = Math.Min(_pending.Length - _pendingCount, source.Length);
                source[..count].CopyTo(_pending.Span[_pendingCount..]);
                _pendingCount += count;
                source = source[count..];
            }

            _bodyBytes += total;
            NoteHeld(total);
            return IsFlushDue();
        }
    }

    // A write Kestrel must see as it comes: it throws for a body the response cannot have (204, 205, 304) or one past
    // the declared Content-Length, as it would have for this write under PerWrite.
    private ValueTask<FlushResult> WriteThroughAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        using (Sync())
        {
            CommitPending();
            _inner.Writer.Write(source.Span);
            _bodyBytes += source.Length;
            NoteHeld(source.Length);
            if (!IsFlushDue())
            {
                return HeldResult(cancellationToken);
            }
        }

        return FlushNowAsync(cancellationToken);
    }

    // Hands the bytes copied since the last commit to Kestrel, still unflushed. Under _sync.
    private void CommitPending()
    {
        var count = _pendingCount;
        _pending = default;
        _pendingCount = 0;
        if (count > 0)
        {
            _inner.Writer.Advance(count);
        }
    }

    // Whether another `additional` bytes go past the declared Content-Length. Only once started.
    private bool ExceedsBody(long additional) => _declaredLength >= 0 && _bodyBytes + additional > _declaredLength;

    // Whether the CompletesBody rule applies is decided by the caller; this is the threshold and the delay. Under _sync.
    private bool IsFlushDue()
        => _held >= _policy.FlushThreshold
            // A response the sweeper watches has its delay checked there; reading the clock at every write costs.
            || (_held > 0 && !_registered && _timeProvider.GetElapsedTime(_oldestHeldTimestamp) >= _policy.MaxFlushDelay);

    // A flushed write that is not held: tells a corking send side whether it must leave at once (a stream), or ends
    // the message (the last byte of a Content-Length body); otherwise the send side may fill segments with it.
    private void TellSendSide(long additional)
    {
        if (_cork is null)
        {
            return;
        }

        if (_decision == Decision.Stream)
        {
            _cork.Push();
        }
        else
        {
            EndsMessage(additional);
        }
    }

    // Whether another `additional` bytes complete a Content-Length body; if so, a corking send side learns that the
    // flush carrying them ends the message.
    private bool EndsMessage(long additional)
    {
        if (!CompletesBody(additional))
        {
            return false;
        }

        _cork?.EndMessage(atNextFlush: true);
        return true;
    }

    private static ValueTask<FlushResult> HeldResult(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<FlushResult>(cancellationToken)
            : new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));

    // Whether the body is complete once another `additional` bytes are written: only a declared Content-Length says so.
    private bool CompletesBody(long additional)
    {
        var length = HasStarted ? _declaredLength : _context.Response.ContentLength ?? -1;
        return length > 0 && Volatile.Read(ref _bodyBytes) + additional == length;
    }

    // Whether the response has started, read from the app's side. Once it has, its headers are read-only, so the
    // declared length is read once instead of at every write.
    private bool HasStarted
    {
        get
        {
            if (_started)
            {
                return true;
            }

            if (!_context.Response.HasStarted)
            {
                return false;
            }

            _declaredLength = _context.Response.ContentLength ?? -1;
            _canBatch = _context.Response.StatusCode is not (StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified);
            _started = true;
            return true;
        }
    }

    private ValueTask<FlushResult> FlushIfDueAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FlushResult>(cancellationToken);
        }

        bool due;
        using (Sync())
        {
            due = IsFlushDue();
        }

        return due ? FlushNowAsync(cancellationToken) : HeldResult(cancellationToken);
    }

    // Called under _sync.
    private void NoteHeld(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        if (_held == 0)
        {
            _oldestHeldTimestamp = _timeProvider.GetTimestamp();
            if (_watched)
            {
                RegisterUnderLock();
            }
        }

        _held += bytes;
    }

    // Called under _sync.
    private void RegisterUnderLock()
    {
        if (!_registered && !_ended)
        {
            _registered = true;
            _sweeper.Register(this, FlushDeadline);
        }
    }

    // When the oldest held byte will have waited MaxFlushDelay, as a timestamp. Under _sync.
    private long FlushDeadline => _oldestHeldTimestamp + DeadlineSweeper<MessageBoundaryPipeWriter>.ToTimestampTicks(_timeProvider, _policy.MaxFlushDelay);

    /// <summary>
    /// Called by <see cref="HeldResponseSweeper"/> on its thread: flushes if the oldest held byte has waited
    /// <see cref="ResponseFlushPolicy.MaxFlushDelay"/> at <paramref name="now"/>. Returns when to look again (a
    /// timestamp), or 0 to be let go.
    /// </summary>
    public long OnSweep(long now)
    {
        ValueTask<FlushResult> flush;
        lock (_sync)
        {
            if (_ended || _held == 0)
            {
                _registered = false;
                return 0;
            }

            // Between the app's GetMemory and Advance, or while the response starts: look again at the next sweep.
            if (_memoryOutstanding || !_context.Response.HasStarted)
            {
                return now;
            }

            var deadline = FlushDeadline;
            if (now < deadline)
            {
                return deadline;
            }

            _held = 0;
            _registered = false;
            try
            {
                CommitPending();
                flush = _inner.Writer.FlushAsync();
            }
            catch (InvalidOperationException)
            {
                // The response ended under us; Kestrel sends what it has.
                return 0;
            }
        }

        if (!flush.IsCompleted)
        {
            _ = ObserveAsync(flush);
        }

        return 0;

        static async Task ObserveAsync(ValueTask<FlushResult> pending)
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
            {
                // The connection went away; the app sees it on its next write.
            }
        }
    }

    // The lock, except in the synchronous phase on its own thread (any other thread's id differs from the one stored).
    private SyncScope Sync() => new(Environment.CurrentManagedThreadId == _synchronousThreadId ? null : _sync);

    private readonly ref struct SyncScope
    {
        private readonly Lock? _lock;

        public SyncScope(Lock? syncLock)
        {
            _lock = syncLock;
            syncLock?.Enter();
        }

        public void Dispose() => _lock?.Exit();
    }
}
