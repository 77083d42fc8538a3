using AspNetCore.TcpTuning.Diagnostics;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
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
internal sealed partial class MessageBoundaryPipeWriter : PipeWriter, IDisposable
{
    // Not readonly: a mutable struct, entered in place (Locked(), Sync()).
    private SpinningLock _sync;
    private readonly TimeProvider _timeProvider;
    private readonly HeldResponseSweeper _sweeper;
    private readonly TcpTuningMetrics? _metrics;
    private readonly HoldPolicy _policy = new();
    private readonly HoldBuffer _buffer = new();
    private readonly SynchronousDeadline _synchronousDeadline;
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
    // Lock-free calls in progress on the synchronous phase's thread (only that thread writes it); this writer's responses
    // so far (counted on the handler's thread); the response whose synchronous phase the timer took over (0: none).
    // See Sync() and TakeOverSynchronousPhase().
    private int _synchronousDepth;
    private long _response;
    private long _takenOverFor;
    private long _synchronousArmedFor;
    private bool _poolResolved;
    private ResponseFlushMode? _modeOverride;
    private ResponseFlushPolicy? _delaySettings;
    private long _delayTicks;

    public MessageBoundaryPipeWriter(TimeProvider timeProvider, HeldResponseSweeper sweeper, TcpTuningMetrics? metrics = null)
    {
        _timeProvider = timeProvider;
        _sweeper = sweeper;
        _metrics = metrics;
        _synchronousDeadline = new SynchronousDeadline(TakeOverSynchronousPhase);
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
            using (Locked())
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
        _modeOverride = null;
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
        Volatile.Write(ref _response, _response + 1);
        _originalLifetime = null;
        _buffer.Clear();
        if (!_poolResolved)
        {
            // Kestrel's block pool, reached through the connection's features (once: the writer is the connection's).
            _poolResolved = true;
            _buffer.UsePool(context.Features.Get<IMemoryPoolFeature>()?.MemoryPool);
        }

        if (!ReferenceEquals(settings, _delaySettings))
        {
            // Settings change only with a reload: the delay in timestamp ticks is worked out once per settings.
            _delaySettings = settings;
            _delayTicks = DeadlineSweeper<MessageBoundaryPipeWriter>.ToTimestampTicks(_timeProvider, HoldBound.Effective(settings.MaxFlushDelay));
        }

        _policy.Reset(settings.FlushThreshold, _delayTicks, settings.HonorExplicitFlush);
    }

    // Kestrel's feature, read through the collection's indexer: HttpContext.Response reads a cache that is fetched again,
    // a generic interface call per feature, after every feature swap of the request (ours included).
    private IHttpResponseFeature ResponseFeature => (IHttpResponseFeature)_context.Features[typeof(IHttpResponseFeature)]!;

    /// <summary>The connection's corking send side, when the response is HTTP/1.x on a <c>Cork</c> endpoint.</summary>
    public ITcpCorkControl? Cork => _cork;

    /// <summary>Whether ended writes wait for a flush (a request-body read must send them first).</summary>
    public bool HasHeldBytes => _decision == ResponseFlushDecision.Hold && _policy.Held > 0;

    /// <summary>Bytes of ended writes that wait for a flush.</summary>
    public long HeldBytes => _policy.Held;

    public override bool CanGetUnflushedBytes => _inner.Writer.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.Writer.UnflushedBytes + _buffer.Length;

    private bool Holding => _decision == ResponseFlushDecision.Hold;

    // The response holds nothing and has no flush of ours in flight, so no other thread touches the writer: the timer
    // and the abort hook act only on held bytes, and only the app's own calls make the response hold. Calls that find
    // this true need no lock (only the app's thread writes the fields read here while it is true).
    private bool NothingToHold => _decision != ResponseFlushDecision.Hold && _background is null && _pendingAbort is null;

    // The response holds bytes the policy has yet to send: held, or advanced into Kestrel's buffer unflushed. Under Sync().
    private bool HoldsBytes => Holding && (_policy.Held > 0 || _buffer.Length > 0 || _kestrelBytes > 0);

    /// <summary>The app aborted with bytes held: the abort waits for their flush, and nothing more of the response goes out.</summary>
    public bool Aborting => _pendingAbort is not null;

    // What Kestrel answers to a write on an aborted connection.
    private static ValueTask<FlushResult> AbortedResult => new(new FlushResult(isCanceled: false, isCompleted: true));

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (NothingToHold && !DecidesAtThisSpan())
        {
            // Before the decision, or for a response that does not hold.
            return KestrelMemory(sizeHint);
        }

        using (Sync())
        {
            if (DecidesAtThisSpan())
            {
                Decide();
            }

            if (Holding || Aborting)
            {
                _memoryFromBuffer = true;
                _memoryOutstanding = true;
                return _buffer.GetMemory(sizeHint);
            }

            return KestrelMemory(sizeHint);
        }
    }

    // Before the response starts the memory is Kestrel's, as it would be: Kestrel judges those bytes at its start. So it
    // is after the start while the declared body is not complete: the flush decides, and a write that completes the body
    // (Results.Text's) leaves as it would without the policy, neither held nor copied.
    private bool DecidesAtThisSpan()
        => _decision == ResponseFlushDecision.Undecided && ResponseFeature is { HasStarted: true } response && !AwaitsDeclaredBody(response);

    private Memory<byte> KestrelMemory(int sizeHint)
    {
        _memoryFromBuffer = false;
        return _inner.Writer.GetMemory(sizeHint);
    }

    // Kestrel's own memory (before the response started, or not holding): Kestrel judges the bytes.
    private void AdvanceKestrel(int bytes)
    {
        _inner.Writer.Advance(bytes);
        _bodyBytes += bytes;
        _kestrelBytes += bytes;
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        if (!_memoryFromBuffer && NothingToHold)
        {
            AdvanceKestrel(bytes);
            return;
        }

        using (Sync())
        {
            if (!_memoryFromBuffer)
            {
                AdvanceKestrel(bytes);
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
                if (!HasTransferEncoding())
                {
                    // Kestrel throws for bytes past the declared length at the Advance that carries them, checking the
                    // length before it touches its buffer: given the bytes it has not seen (these and the held ones) as
                    // one count, it throws the same exception for the same total and disables keep-alive, its buffer
                    // untouched. The held bytes stay held; the handler's failure hands them over as for any other
                    // exception. (Committing and flushing them here, then taking Kestrel's memory for these, hung
                    // HTTP/2 streams: a write into Kestrel's buffer during that flush was never scheduled for sending.)
                    _inner.Writer.Advance((int)Math.Min(int.MaxValue, bytes + _buffer.Length));
                    return;
                }

                // A Transfer-Encoding set by the app: Kestrel does not hold the body to the Content-Length.
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

        if (_decision == ResponseFlushDecision.Undecided && CompletesBody(0))
        {
            // The first flush carries the whole declared body (a one-write response), in Kestrel's buffer: nothing to
            // hold, so Kestrel's own flush starts the response if need be and sends it, as without the policy.
            _decision = ResponseFlushDecision.PassThrough;
            TellSendSide(0);
            return _inner.Writer.FlushAsync(cancellationToken);
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
        // Kept small for the JIT to inline into the app's loop: a held write, else the general path.
        if (Holding && !Aborting)
        {
            return WriteHeld(source, cancellationToken);
        }

        return WriteUnheld(source, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<FlushResult> WriteUnheld(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        if (Aborting)
        {
            return AbortedResult;
        }

        if (_decision == ResponseFlushDecision.Undecided)
        {
            // A first write that completes the declared body needs no holding, started or not; one Kestrel would
            // reject (past the declared length) goes to it as it comes, so it answers as it would (unstarted: a 500).
            var response = ResponseFeature;
            var length = DeclaredLength(response);
            if (length >= 0 && _bodyBytes + source.Length >= length)
            {
                _decision = ResponseFlushDecision.PassThrough;
                return WriteToKestrel(source, cancellationToken);
            }

            if (Decide() == ResponseFlushDecision.Hold && !response.HasStarted)
            {
                return StartThenWriteAsync(source, cancellationToken);
            }
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
            InBackground(exception is null ? HandOverAll(FlushReason.End) : CommitAllThenFlush(FlushReason.Error));
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
                flush = HandOverAll(FlushReason.End);
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

    // Decides, if undecided; whether the response holds and has yet to be started.
    /// <summary>
    /// The response's mode: the handler's choice (<see cref="IResponseFlushFeature"/>), else the route's, else the
    /// endpoint's. A choice made after the decision has no effect.
    /// </summary>
    public ResponseFlushMode Mode
    {
        get => _modeOverride ?? (_routesOverride ? _context.GetEndpoint()?.Metadata.GetMetadata<IResponseFlushMetadata>()?.Mode ?? _settings.Mode : _settings.Mode);
        set
        {
            if (_decision == ResponseFlushDecision.Undecided)
            {
                _modeOverride = value;
            }
        }
    }

    private bool NeedsStart()
    {
        if (_decision != ResponseFlushDecision.Undecided)
        {
            return false;
        }

        var started = ResponseFeature.HasStarted;
        return Decide() == ResponseFlushDecision.Hold && !started;
    }

    private ResponseFlushDecision Decide()
    {
        var mode = Mode;
        var response = ResponseFeature;
        var isHead = HttpMethods.IsHead(((IHttpRequestFeature)_context.Features[typeof(IHttpRequestFeature)]!).Method);
        var decision = ResponseFlushDecider.Decide(mode, response.StatusCode, response.Headers.ContentType, isHead);
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
        _declaredLength = ResponseFeature.Headers.ContentLength ?? -1;
    }

    private ValueTask<FlushResult> WriteHeld(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        using (Sync())
        {
            if (InFlight(out var background))
            {
                return WriteAfterAsync(background, source, cancellationToken);
            }

            _memoryOutstanding = false;
            if (AddsToHeld(source.Length))
            {
                // What WriteHeldGeneral concludes for such a write, without its questions.
                _buffer.Append(source.Span);
                _buffer.EndWrite();
                _bodyBytes += source.Length;
                return HeldResult(cancellationToken);
            }

            return WriteHeldGeneral(source, cancellationToken);
        }
    }

    // A held write that may end the message, pass the threshold, need the clock or arm the timer. Under _sync.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<FlushResult> WriteHeldGeneral(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        OnStarted();
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
        var reason = _policy.OnWriteEnded(_buffer.EndWrite() + TakeKestrelBytes(), Now(completesBody: false), completesBody: false);
        return Act(reason, cancellationToken);
    }

    // Whether a write of `bytes` only adds to what is held (most writes of a chatty response): the response started
    // holding, declares no length, has nothing advanced unended, hooked the abort, and the timer already watches the
    // deadline this write leaves as it is; the policy then counts the bytes (HoldPolicy.TryAddHeld). Under _sync.
    private bool AddsToHeld(int bytes)
        => _started && _declaredLength < 0 && _kestrelBytes == 0 && !_buffer.HasTail && _originalLifetime is not null
           && (_watched ? _registered && _synchronousArmedFor == 0 : _synchronousArmedFor == _policy.Deadline && !_synchronousDeadline.Passed)
           && _policy.TryAddHeld(bytes);

    // The write ends the message, or is too large to hold: what is held leaves first, then the write, unheld. Under _sync.
    private ValueTask<FlushResult> WriteThrough(ReadOnlyMemory<byte> source, bool completes, CancellationToken cancellationToken)
    {
        if (completes)
        {
            // The send side learns the end now: the flush below carries the last byte.
            _cork?.EndMessage(atNextFlush: true);
        }

        var reason = completes ? FlushReason.End : FlushReason.Threshold;
        if (_buffer.Length == 0)
        {
            // Bytes held in Kestrel's buffer, if any, leave with this write.
            OnHandedOver(reason);
            return _inner.Writer.WriteAsync(source, cancellationToken);
        }

        if (source.Length <= _settings.FlushThreshold)
        {
            // One write to Kestrel: one chunk, one flush.
            _buffer.Append(source.Span);
            return HandOverAll(reason, cancellationToken);
        }

        var held = HandOverAll(reason, cancellationToken);
        return held.IsCompletedSuccessfully ? _inner.Writer.WriteAsync(source, cancellationToken) : WriteAfterAsync(held, source, cancellationToken);
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
            var now = Now(completes);
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
        if (reason == FlushReason.None && _synchronousArmedFor != 0 && _synchronousArmedFor == _policy.Deadline && _synchronousDeadline.Passed)
        {
            // The timer saw the deadline pass while the handler ran synchronously; the next held byte arms it anew.
            reason = FlushReason.Delay;
            _synchronousArmedFor = 0;
        }

        if (reason != FlushReason.None)
        {
            return FlushEnded(reason, cancellationToken);
        }

        if (_policy.Held > 0)
        {
            HookAbort();
            if (_watched)
            {
                if (!_registered)
                {
                    RegisterUnderLock();
                }
            }
            else if (_synchronousArmedFor != _policy.Deadline && !_policy.CheckDelayAtWrites && Environment.CurrentManagedThreadId == _synchronousThreadId)
            {
                ArmSynchronousDeadline();
            }
        }

        return HeldResult(cancellationToken);
    }

    // App bytes in Kestrel's buffer not yet counted as held (advanced before the start, or a committed tail): they end
    // with this write.
    private long TakeKestrelBytes()
    {
        var bytes = _kestrelBytes;
        _kestrelBytes = 0;
        return bytes;
    }

    private long Now(bool completesBody) => _policy.NeedsTime(completesBody) ? _timeProvider.GetTimestamp() : 0;

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

    // The declared Content-Length, -1 for none: the headers' until the policy started the response, then fixed. A caller
    // holding the response feature passes it (one lookup fewer).
    private long DeclaredLength(IHttpResponseFeature? response = null) => _started ? _declaredLength : (response ?? ResponseFeature).Headers.ContentLength ?? -1;

    // Whether the response declares a Content-Length its body has not reached yet.
    private bool AwaitsDeclaredBody(IHttpResponseFeature response) => DeclaredLength(response) > _bodyBytes;

    // Kestrel checks a Content-Length only without a Transfer-Encoding.
    private bool HasTransferEncoding() => ResponseFeature.Headers.TransferEncoding.Count > 0;

    // Whether another `additional` bytes go past the declared Content-Length.
    private bool ExceedsBody(long additional) => _declaredLength >= 0 && _bodyBytes + additional > _declaredLength;

    // Whether the body is complete once another `additional` bytes are written: only a declared Content-Length says so.
    private bool CompletesBody(long additional)
    {
        var length = DeclaredLength();
        return length > 0 && _bodyBytes + additional == length;
    }

    private static ValueTask<FlushResult> HeldResult(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<FlushResult>(cancellationToken)
            : new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));

    // The lock, except in the synchronous phase on its own thread (any other thread's id differs from the one stored)
    // until the timer takes the writer over: the call counts itself in first, then looks (TakeOverSynchronousPhase).
    private SyncScope Sync()
        // The phase's thread is read first: outside the phase the lock alone reads the current thread.
        => _synchronousThreadId != 0 && Environment.CurrentManagedThreadId == _synchronousThreadId ? SyncOnPhaseThread() : Locked();

    // Sync() for a caller on the synchronous phase's thread: no lock, unless the timer has taken the phase over.
    private SyncScope SyncOnPhaseThread()
    {
        Volatile.Write(ref _synchronousDepth, _synchronousDepth + 1);
        if (Volatile.Read(ref _takenOverFor) != _response)
        {
            return new SyncScope(this, locked: false);
        }

        Volatile.Write(ref _synchronousDepth, _synchronousDepth - 1);
        return Locked();
    }

    // The lock, whoever calls: the timer's thread, a flush's continuation, the abort hook.
    private SyncScope Locked()
    {
        _sync.Enter();
        return new SyncScope(this, locked: true);
    }

    private readonly ref struct SyncScope
    {
        private readonly MessageBoundaryPipeWriter _writer;
        private readonly bool _locked;

        public SyncScope(MessageBoundaryPipeWriter writer, bool locked)
        {
            _writer = writer;
            _locked = locked;
        }

        public void Dispose()
        {
            if (_locked)
            {
                _writer._sync.Exit();
            }
            else
            {
                Volatile.Write(ref _writer._synchronousDepth, _writer._synchronousDepth - 1);
            }
        }
    }
}
