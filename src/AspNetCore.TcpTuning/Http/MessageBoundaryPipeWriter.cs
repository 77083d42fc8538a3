using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Infrastructure;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The response body writer of the message-boundary policy: the mechanics that carry out <see cref="HoldPolicy"/>
/// against Kestrel. Once the response has started, the app's bytes wait in a <see cref="HoldBuffer"/> and reach
/// Kestrel as one write per flush, so Kestrel frames, validates and rate-times them as it does the app's own writes.
/// </summary>
/// <remarks>
/// Kestrel's state must never differ from what it would be without this writer at a point where Kestrel acts on it:
/// calls Kestrel must judge as they come (a write past the declared length, a body on a bodyless status, anything
/// before the response started) go straight to it, and on a failure the bytes Kestrel would have flushed are flushed
/// and the ones it would still buffer are handed to it unflushed (<see cref="Materialize"/>). The delay timer flushes
/// from its own thread, so every call that touches the buffer or Kestrel takes <see cref="_sync"/>, except while the
/// handler still runs synchronously on the thread that started it (no timer watches the writer yet).
/// </remarks>
internal sealed class MessageBoundaryPipeWriter : PipeWriter, IDisposable
{
    private readonly Lock _sync = new();
    private readonly TimeProvider _timeProvider;
    private readonly HeldResponseSweeper _sweeper;
    private readonly HoldPolicy _policy = new();
    private readonly HoldBuffer _buffer = new();
    private HttpContext _context = null!;
    private IHttpResponseBodyFeature _inner = null!;
    private ResponseFlushPolicy _settings = null!;
    private ITcpCorkControl? _cork;
    private bool _routesOverride;
    private FlushBeforeAbortLifetimeFeature? _abortHook;
    private IHttpRequestLifetimeFeature? _originalLifetime;

    private ResponseFlushDecision _decision;
    private bool _bodyless;
    private bool _started;
    private long _declaredLength;
    private long _bodyBytes;
    private long _kestrelBytes;
    private bool _memoryFromBuffer;
    private bool _memoryOutstanding;
    private bool _ended;
    private Task? _pendingAbort;
    private Task? _background;
    private bool _registered;
    private bool _watched;
    private int _synchronousThreadId;
    private bool _poolResolved;

    public MessageBoundaryPipeWriter(TimeProvider timeProvider, HeldResponseSweeper sweeper)
    {
        _timeProvider = timeProvider;
        _sweeper = sweeper;
    }

    /// <summary>
    /// Starts a response; the writer is reused for the next response of an HTTP/1.x connection.
    /// <paramref name="routesOverride"/>: whether any route sets its own flush mode (else the endpoint's applies).
    /// </summary>
    public void Initialize(HttpContext context, IHttpResponseBodyFeature inner, ResponseFlushPolicy settings, bool routesOverride, ITcpCorkControl? cork)
    {
        // The timer may still hold this writer from the connection's previous response (it lets go under the lock).
        if (Volatile.Read(ref _registered))
        {
            lock (_sync)
            {
                Reset(context, inner, settings, routesOverride, cork);
            }
        }
        else
        {
            Reset(context, inner, settings, routesOverride, cork);
        }
    }

    private void Reset(HttpContext context, IHttpResponseBodyFeature inner, ResponseFlushPolicy settings, bool routesOverride, ITcpCorkControl? cork)
    {
        _context = context;
        _inner = inner;
        _settings = settings;
        _routesOverride = routesOverride;
        _cork = cork;
        _decision = ResponseFlushDecision.Undecided;
        _bodyless = false;
        _started = false;
        _declaredLength = -1;
        _bodyBytes = 0;
        _kestrelBytes = 0;
        _memoryFromBuffer = false;
        _memoryOutstanding = false;
        _ended = false;
        _pendingAbort = null;
        _background = null;
        _watched = false;
        _originalLifetime = null;
        _buffer.Clear();
        if (!_poolResolved)
        {
            // Kestrel's block pool, reached through the connection's features (once: the writer is the connection's).
            _poolResolved = true;
            _buffer.UsePool(context.Features.Get<IMemoryPoolFeature>()?.MemoryPool);
        }

        _policy.Reset(settings.FlushThreshold, DeadlineSweeper<MessageBoundaryPipeWriter>.ToTimestampTicks(_timeProvider, HoldBound.Effective(settings.MaxFlushDelay)), settings.HonorExplicitFlush);
    }

    /// <summary>The connection's corking send side, when the response is HTTP/1.x on a <c>Cork</c> endpoint.</summary>
    public ITcpCorkControl? Cork => _cork;

    /// <summary>Whether ended writes wait for a flush (a request-body read must send them first).</summary>
    public bool HasHeldBytes => _decision == ResponseFlushDecision.Hold && _policy.Held > 0;

    /// <summary>Bytes of ended writes that wait for a flush.</summary>
    public long HeldBytes => _policy.Held;

    public override bool CanGetUnflushedBytes => _inner.Writer.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.Writer.UnflushedBytes + _buffer.Length;

    private bool Holding => _decision == ResponseFlushDecision.Hold;

    /// <summary>The app aborted with bytes held: the abort waits for their flush, and nothing more of the response goes out.</summary>
    public bool Aborting => _pendingAbort is not null;

    // What Kestrel answers to a write on an aborted connection.
    private static ValueTask<FlushResult> AbortedResult => new(new FlushResult(isCanceled: false, isCompleted: true));

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        using (Sync())
        {
            // Before the response starts the memory is Kestrel's, as it would be: Kestrel judges those bytes at its start.
            if (_decision == ResponseFlushDecision.Undecided && _context.Response.HasStarted)
            {
                Decide();
            }

            if (Holding || Aborting)
            {
                _memoryFromBuffer = true;
                _memoryOutstanding = true;
                return _buffer.GetMemory(sizeHint);
            }

            _memoryFromBuffer = false;
            return _inner.Writer.GetMemory(sizeHint);
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        using (Sync())
        {
            if (!_memoryFromBuffer)
            {
                // Kestrel's own memory (before the response started, or not holding): Kestrel judges the bytes.
                _inner.Writer.Advance(bytes);
                _bodyBytes += bytes;
                _kestrelBytes += bytes;
                return;
            }

            _memoryOutstanding = false;
            if (Aborting)
            {
                _buffer.Advance(bytes);
                return;
            }

            if (ExceedsBody(bytes))
            {
                // Kestrel throws for bytes past the declared length at the Advance that carries them: let it.
                var span = _buffer.Unadvanced(bytes);
                InBackground(CommitAllThenFlush(FlushReason.Error));
                _memoryFromBuffer = false;
                _decision = ResponseFlushDecision.PassThrough;
                var target = _inner.Writer.GetSpan(bytes);
                span.CopyTo(target);
                _inner.Writer.Advance(bytes);
                return;
            }

            _buffer.Advance(bytes);
            _bodyBytes += bytes;
        }
    }

    /// <summary>Ends a write (<c>HttpResponse.WriteAsync</c> calls it after every write); not the app's explicit flush.</summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Aborting)
        {
            return AbortedResult;
        }

        if (NeedsStart())
        {
            // Kestrel's flush would start the response; start it without flushing, then hold what was written.
            return StartThenEndWriteAsync(explicitFlush: false, cancellationToken);
        }

        if (!Holding)
        {
            if (_background is { IsCompleted: false } background)
            {
                return FlushAfterAsync(background, explicitFlush: false, cancellationToken);
            }

            TellSendSide(0);
            return _inner.Writer.FlushAsync(cancellationToken);
        }

        return EndWrite(explicitFlush: false, cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (Aborting)
        {
            return AbortedResult;
        }

        if (NeedsStart())
        {
            // A first write Kestrel would reject before starting (past the declared length) goes to it unstarted, so
            // it answers 500 as it would; one that completes the body needs no holding.
            var length = _context.Response.ContentLength ?? -1;
            if (length >= 0 && _bodyBytes + source.Length >= length)
            {
                _decision = ResponseFlushDecision.PassThrough;
                return WriteToKestrel(source, cancellationToken);
            }

            return StartThenWriteAsync(source, cancellationToken);
        }

        return Holding ? WriteHeld(source, cancellationToken) : WriteToKestrel(source, cancellationToken);
    }

    // A write Kestrel handles as it comes (it throws before counting a write it rejects).
    private ValueTask<FlushResult> WriteToKestrel(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        if (_background is { IsCompleted: false } background)
        {
            return WriteAfterAsync(background, source, cancellationToken);
        }

        TellSendSide(source.Length);
        var write = _inner.Writer.WriteAsync(source, cancellationToken);
        _bodyBytes += source.Length;
        return write;
    }

    public override void CancelPendingFlush() => _inner.Writer.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        if (Aborting)
        {
            // Kestrel ends the response once the abort took effect, as it ignores a completion after an abort.
            return;
        }

        using (Sync())
        {
            InBackground(exception is null ? HandOverAll() : CommitAllThenFlush(FlushReason.Error));
        }

        _inner.Writer.Complete(exception);
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (Aborting)
        {
            return;
        }

        if (_background is { } background)
        {
            await background.ConfigureAwait(false);
        }

        if (exception is null)
        {
            ValueTask<FlushResult> flush;
            using (Sync())
            {
                flush = HandOverAll();
            }

            await ObserveAsync(flush).ConfigureAwait(false);
        }
        else
        {
            ValueTask materialized;
            using (Sync())
            {
                materialized = Materialize(FlushReason.Error);
            }

            await materialized.ConfigureAwait(false);
        }

        await _inner.Writer.CompleteAsync(exception).ConfigureAwait(false);
    }

    /// <summary>
    /// Hands what is held to Kestrel, unflushed, before something writes to Kestrel around this writer (the server's
    /// own stream, for synchronous writes): same pipe, same order.
    /// </summary>
    public void CommitHeld()
    {
        using (Sync())
        {
            if (_buffer.Length > 0 && !Aborting)
            {
                // The ended part stays counted as held (a failure must still flush it); the tail joins Kestrel's bytes.
                _kestrelBytes += _buffer.Tail.Length;
                CommitToKestrel(_buffer.All);
                _buffer.ConsumeAll(_memoryOutstanding);
            }
        }
    }

    /// <summary>An explicit flush (<c>Response.Body.FlushAsync()</c>): honoured unless the settings say otherwise.</summary>
    public ValueTask<FlushResult> ExplicitFlushAsync(CancellationToken cancellationToken)
    {
        if (Aborting)
        {
            return AbortedResult;
        }

        if (NeedsStart())
        {
            return StartThenEndWriteAsync(explicitFlush: true, cancellationToken);
        }

        if (!Holding)
        {
            if (_background is { IsCompleted: false } background)
            {
                return FlushAfterAsync(background, explicitFlush: true, cancellationToken);
            }

            _cork?.Push();
            return _inner.Writer.FlushAsync(cancellationToken);
        }

        return EndWrite(explicitFlush: true, cancellationToken);
    }

    /// <summary><c>DisableBuffering()</c>: from here on every write flushes; what the app ended leaves now.</summary>
    public void DisableBuffering()
    {
        using (Sync())
        {
            InBackground(CommitAllThenFlush(FlushReason.Explicit));
            _decision = ResponseFlushDecision.Stream;
        }
    }

    /// <summary>The app is about to read the request body: what it ended goes to the client first.</summary>
    public ValueTask<FlushResult> FlushBeforeReadAsync(CancellationToken cancellationToken)
    {
        using (Sync())
        {
            if (InFlight(out var background))
            {
                return ReadFlushAfterAsync(background, cancellationToken);
            }

            var reason = _policy.OnRequestBodyRead();
            if (reason == FlushReason.None || !Holding || Aborting)
            {
                return HeldResult(cancellationToken);
            }

            return FlushEnded(reason, cancellationToken);
        }
    }

    /// <summary>A request-body read waits for the peer: a corking send side must not hold what the peer waits for.</summary>
    public void OnWaitingForPeer() => _cork?.SendHeldNow();

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
        lock (_sync)
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
    /// The message is ending (the app returned or completed the response): what is held leaves and, when
    /// <paramref name="markEnd"/>, a corking send side learns which flush ends the message. For chunked HTTP/1.1 the
    /// held bytes go to Kestrel unflushed and leave with its terminating chunk, in one send.
    /// </summary>
    public ValueTask EndMessageAsync(bool markEnd)
    {
        if (_pendingAbort is { } abort)
        {
            // The response ends by the abort, not here: Kestrel must not end it before the abort takes effect.
            _ended = true;
            return new ValueTask(abort);
        }

        ValueTask<FlushResult> flush = default;
        using (Sync())
        {
            if (InFlight(out var background))
            {
                return new ValueTask(EndAfterAsync(background, markEnd));
            }

            _ended = true;
            var held = Holding && (_policy.Held > 0 || _buffer.Length > 0 || _kestrelBytes > 0);
            if (markEnd && _cork is not null)
            {
                // Read only for a send side to tell: the framing is a header lookup.
                _cork.EndMessage(atNextFlush: held || HttpMessageFraming.EndsWithKestrelFlush(_context));
            }

            if (held)
            {
                if (HttpMessageFraming.IsHttp1Chunked(_context))
                {
                    CommitToKestrel(_buffer.All);
                    _buffer.ConsumeAll(memoryOutstanding: false);
                }
                else
                {
                    flush = HandOverAll();
                }
            }

            _policy.OnFlushed();
        }

        return flush.IsCompletedSuccessfully ? default : AwaitFlush(flush);

        static async ValueTask AwaitFlush(ValueTask<FlushResult> flush) => await flush.ConfigureAwait(false);
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

    /// <summary>
    /// The middleware is about to run the handler on this thread. Until <see cref="EndSynchronousPhase"/>, only this
    /// thread can reach the writer: the timer watches it only once the handler has gone asynchronous, and a
    /// continuation of the handler runs on another thread or after the phase ended. So the app's calls skip the lock,
    /// unless the timer still holds the writer from the connection's previous response.
    /// </summary>
    public void BeginSynchronousPhase()
    {
        if (!Volatile.Read(ref _registered))
        {
            _synchronousThreadId = Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>The handler returned or went asynchronous: from here on every call takes the lock.</summary>
    public void EndSynchronousPhase() => _synchronousThreadId = 0;

    /// <summary>The handler went asynchronous: from now on the delay timer watches held bytes.</summary>
    public void WatchHeldBytes()
    {
        lock (_sync)
        {
            _watched = true;
            _policy.CheckDelayAtWrites = false;
            if (_policy.Held > 0)
            {
                RegisterUnderLock();
            }
        }
    }

    /// <summary>Ends the response without flushing (it is over, or failed): the timer lets go of this writer.</summary>
    public void EndWithoutFlush()
    {
        using (Sync())
        {
            _buffer.Clear();
            _policy.OnFlushed();
            _ended = true;
        }
    }

    public void Dispose() => EndWithoutFlush();

    /// <summary>
    /// Called by <see cref="HeldResponseSweeper"/> on its thread: flushes if the oldest held byte has waited the full
    /// delay at <paramref name="now"/>. Returns when to look again (a timestamp), or 0 to be let go.
    /// </summary>
    public long OnSweep(long now)
    {
        lock (_sync)
        {
            if (_ended || !Holding || Aborting || _policy.Held == 0)
            {
                _registered = false;
                return 0;
            }

            if (_policy.OnDeadline(now) == FlushReason.None)
            {
                return _policy.Deadline;
            }

            _registered = false;
            if (InFlight(out _))
            {
                // Its completion registers the writer again.
                return 0;
            }

            try
            {
                InBackground(FlushEnded(FlushReason.Delay, CancellationToken.None));
            }
            catch (InvalidOperationException)
            {
                // The response ended under us; Kestrel sends what it has.
            }
        }

        return 0;
    }

    // Decides, if undecided; whether the response holds and has yet to be started.
    private bool NeedsStart()
    {
        if (_decision != ResponseFlushDecision.Undecided)
        {
            return false;
        }

        var started = _context.Response.HasStarted;
        return Decide() == ResponseFlushDecision.Hold && !started;
    }

    private ResponseFlushDecision Decide()
    {
        var mode = _routesOverride ? _context.GetEndpoint()?.Metadata.GetMetadata<IResponseFlushMetadata>()?.Mode ?? _settings.Mode : _settings.Mode;
        var response = _context.Response;
        var isHead = HttpMethods.IsHead(_context.Request.Method);
        var decision = ResponseFlushDecider.Decide(mode, response.StatusCode, response.ContentType, isHead);
        _decision = decision;
        _bodyless = ResponseFlushDecider.HasNoBody(response.StatusCode, isHead);
        return decision;
    }

    private async ValueTask<FlushResult> StartThenEndWriteAsync(bool explicitFlush, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        return await EndWrite(explicitFlush, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> StartThenWriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        return await WriteHeld(source, cancellationToken).ConfigureAwait(false);
    }

    // Starts the response as Kestrel's first write would (OnStarting, headers, framing), without flushing it. Headers
    // and bytes advanced before the start wait in Kestrel's buffer, as part of the first ended write.
    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await _inner.StartAsync(cancellationToken).ConfigureAwait(false);
        OnStarted();
    }

    private void OnStarted()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        _declaredLength = _context.Response.ContentLength ?? -1;
    }

    private ValueTask<FlushResult> WriteHeld(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        using (Sync())
        {
            if (InFlight(out var background))
            {
                return WriteAfterAsync(background, source, cancellationToken);
            }

            OnStarted();
            _memoryOutstanding = false;
            if (ExceedsBody(source.Length))
            {
                // Past the declared length: Kestrel throws at this write, as it would have; it is no longer held.
                var materialized = Materialize(FlushReason.Error);
                _decision = ResponseFlushDecision.PassThrough;
                return materialized.IsCompletedSuccessfully ? WriteToKestrel(source, cancellationToken) : WriteToKestrelAfterAsync(materialized, source, cancellationToken);
            }

            var completes = CompletesBody(source.Length);
            _bodyBytes += source.Length;
            if (completes || _policy.IsLargeWrite(source.Length))
            {
                return WriteThrough(source, completes, cancellationToken);
            }

            _buffer.Append(source.Span);
            var reason = _policy.OnWriteEnded(_buffer.EndWrite() + TakeKestrelBytes(), Now(), completesBody: false);
            return Act(reason, cancellationToken);
        }
    }

    // The write ends the message, or is too large to hold: what is held leaves first, then the write, unheld. Under _sync.
    private ValueTask<FlushResult> WriteThrough(ReadOnlyMemory<byte> source, bool completes, CancellationToken cancellationToken)
    {
        if (completes)
        {
            // The send side learns the end now: the flush below carries the last byte.
            _cork?.EndMessage(atNextFlush: true);
        }

        if (_buffer.Length == 0)
        {
            // Bytes held in Kestrel's buffer, if any, leave with this write.
            OnHandedOver();
            return _inner.Writer.WriteAsync(source, cancellationToken);
        }

        if (source.Length <= _settings.FlushThreshold)
        {
            // One write to Kestrel: one chunk, one flush.
            _buffer.Append(source.Span);
            return HandOverAll(cancellationToken);
        }

        var held = HandOverAll(cancellationToken);
        return held.IsCompletedSuccessfully ? _inner.Writer.WriteAsync(source, cancellationToken) : WriteAfterAsync(held, source, cancellationToken);
    }

    // The same call again once the background flush completed.
    private async ValueTask<FlushResult> WriteAfterAsync(Task background, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return await WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> FlushAfterAsync(Task background, bool explicitFlush, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return explicitFlush
            ? await ExplicitFlushAsync(cancellationToken).ConfigureAwait(false)
            : await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> ReadFlushAfterAsync(Task background, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return await FlushBeforeReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task EndAfterAsync(Task background, bool markEnd)
    {
        await background.ConfigureAwait(false);
        await EndMessageAsync(markEnd).ConfigureAwait(false);
    }

    private async Task FailAfterAsync(Task background)
    {
        await background.ConfigureAwait(false);
        await FailAsync().ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> WriteToKestrelAfterAsync(ValueTask materialized, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await materialized.ConfigureAwait(false);
        return await WriteToKestrel(source, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> WriteAfterAsync(ValueTask<FlushResult> held, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        var result = await held.ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            return result;
        }

        return await _inner.Writer.WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<FlushResult> EndWrite(bool explicitFlush, CancellationToken cancellationToken)
    {
        using (Sync())
        {
            if (InFlight(out var background))
            {
                return FlushAfterAsync(background, explicitFlush, cancellationToken);
            }

            OnStarted();
            _memoryOutstanding = false;
            var ended = _buffer.EndWrite() + TakeKestrelBytes();
            var completes = CompletesBody(0);
            var now = Now();
            var reason = explicitFlush ? _policy.OnExplicitFlush(ended, now, completes) : _policy.OnWriteEnded(ended, now, completes);
            if (reason == FlushReason.End)
            {
                _cork?.EndMessage(atNextFlush: true);
            }

            return Act(reason, cancellationToken);
        }
    }

    // Carries out the policy's answer to an ended write. Under _sync.
    private ValueTask<FlushResult> Act(FlushReason reason, CancellationToken cancellationToken)
    {
        if (reason != FlushReason.None)
        {
            return FlushEnded(reason, cancellationToken);
        }

        if (_policy.Held > 0)
        {
            HookAbort();
            if (_watched && !_registered)
            {
                RegisterUnderLock();
            }
        }

        return HeldResult(cancellationToken);
    }

    // Hands the ended bytes to Kestrel as one counted write and flushes (with Kestrel's own unflushed bytes, which
    // precede them). The tail stays held. Under _sync.
    private ValueTask<FlushResult> FlushEnded(FlushReason reason, CancellationToken cancellationToken)
    {
        if (reason is FlushReason.Explicit or FlushReason.Delay)
        {
            // The bytes must reach the wire now, not fill a segment on the send side (before a read, the read says so).
            _cork?.Push();
        }

        OnHandedOver();
        var ended = _buffer.Ended;
        if (ended.IsEmpty)
        {
            return _inner.Writer.FlushAsync(cancellationToken);
        }

        var flush = WriteToKestrel(ended, cancellationToken);
        _buffer.ConsumeEnded(_memoryOutstanding);
        return flush;
    }

    // Hands everything held to Kestrel as one counted write and flushes (a flush alone when the held bytes are all in
    // Kestrel's buffer already). Under _sync.
    private ValueTask<FlushResult> HandOverAll(CancellationToken cancellationToken = default)
    {
        var kestrelHolds = _kestrelBytes > 0 || _policy.Held > _buffer.Ended.Length;
        OnHandedOver();
        if (_buffer.Length == 0)
        {
            return kestrelHolds ? _inner.Writer.FlushAsync(cancellationToken) : default;
        }

        var flush = WriteToKestrel(_buffer.All, cancellationToken);
        _buffer.ConsumeAll(_memoryOutstanding);
        return flush;
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
        lock (_sync)
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
        if (flush && reason is FlushReason.Explicit)
        {
            _cork?.Push();
        }

        CommitToKestrel(_buffer.All);
        _buffer.ConsumeAll(_memoryOutstanding);
        OnHandedOver();
        return flush ? _inner.Writer.FlushAsync() : default;
    }

    // Hands held bytes to Kestrel as one counted write and flush. Kestrel times a flush by the bytes it counted, and it
    // counts written bytes, not advanced ones: a run across blocks is copied into one rented array for the write
    // (Kestrel copies it before WriteAsync returns, so the array goes back at once). Under _sync.
    private ValueTask<FlushResult> WriteToKestrel(HoldBuffer.Pieces pieces, CancellationToken cancellationToken)
    {
        var enumerator = pieces.GetEnumerator();
        enumerator.MoveNext();
        if (enumerator.Current.Length == pieces.Length)
        {
            return _inner.Writer.WriteAsync(enumerator.Current, cancellationToken);
        }

        var array = ArrayPool<byte>.Shared.Rent(pieces.Length);
        try
        {
            var copied = 0;
            foreach (var piece in pieces)
            {
                piece.Span.CopyTo(array.AsSpan(copied));
                copied += piece.Length;
            }

            return _inner.Writer.WriteAsync(array.AsMemory(0, copied), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    // Copies held bytes into Kestrel's buffer without flushing. Under _sync.
    private void CommitToKestrel(HoldBuffer.Pieces pieces)
    {
        foreach (var piece in pieces)
        {
            CommitToKestrel(piece.Span);
        }
    }

    // Copies bytes into Kestrel's buffer without flushing, each piece as one chunk where Kestrel chunks. Under _sync.
    private void CommitToKestrel(ReadOnlySpan<byte> bytes)
    {
        var writer = _inner.Writer;
        while (!bytes.IsEmpty)
        {
            var span = writer.GetSpan(bytes.Length);
            var count = Math.Min(span.Length, bytes.Length);
            bytes[..count].CopyTo(span);
            writer.Advance(count);
            bytes = bytes[count..];
        }
    }

    // App bytes in Kestrel's buffer not yet counted as held (advanced before the start, or a committed tail): they end
    // with this write.
    private long TakeKestrelBytes()
    {
        var bytes = _kestrelBytes;
        _kestrelBytes = 0;
        return bytes;
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

    // Held bytes were handed to Kestrel (or are about to be, with a write that flushes them).
    private void OnHandedOver()
    {
        _policy.OnFlushed();
        _kestrelBytes = 0;
    }

    private long Now() => _policy.NeedsTime ? _timeProvider.GetTimestamp() : 0;

    // A flushed write that is not held: tells a corking send side whether it must leave at once (a stream), or ends
    // the message (the last byte of a Content-Length body, or the headers of a response without a body); otherwise the
    // send side may fill segments with it.
    private void TellSendSide(long additional)
    {
        if (_cork is null)
        {
            return;
        }

        if (_decision == ResponseFlushDecision.Stream)
        {
            _cork.Push();
        }
        else if (CompletesBody(additional) || _bodyless)
        {
            _cork.EndMessage(atNextFlush: true);
        }
    }

    // Whether another `additional` bytes go past the declared Content-Length.
    private bool ExceedsBody(long additional) => _declaredLength >= 0 && _bodyBytes + additional > _declaredLength;

    // Whether the body is complete once another `additional` bytes are written: only a declared Content-Length says so.
    private bool CompletesBody(long additional)
    {
        var length = _started ? _declaredLength : _context.Response.ContentLength ?? -1;
        return length > 0 && _bodyBytes + additional == length;
    }

    private static ValueTask<FlushResult> HeldResult(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<FlushResult>(cancellationToken)
            : new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));

    // Under _sync.
    private void RegisterUnderLock()
    {
        if (!_registered && !_ended)
        {
            _registered = true;
            _sweeper.Register(this, _policy.Deadline);
        }
    }

    // A flush nobody awaits: its failure is the connection's, which the app sees at its next write.
    // A flush nobody awaits (the timer's, or one a failure or DisableBuffering started). Kestrel takes an app's flushes
    // one at a time (each write awaited): the next call that flushes waits for this one, and the timer looks again once
    // it completed. Under _sync.
    private void InBackground(ValueTask<FlushResult> flush)
    {
        if (!flush.IsCompletedSuccessfully)
        {
            _background = InBackgroundAsync(flush);
        }
    }

    private async Task InBackgroundAsync(ValueTask<FlushResult> flush)
    {
        await ObserveAsync(flush).ConfigureAwait(false);
        lock (_sync)
        {
            if (_watched && _policy.Held > 0)
            {
                RegisterUnderLock();
            }
        }
    }

    // Under _sync: a flush started in the background is still in flight.
    private bool InFlight([NotNullWhen(true)] out Task? background)
    {
        background = _background;
        return background is { IsCompleted: false };
    }

    private static async Task ObserveAsync(ValueTask<FlushResult> pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The connection went away or the response failed; Kestrel reports that itself.
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
