using System.IO.Pipelines;
using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Http;

// What the rest of the HTTP layer tells the writer: explicit flushes, DisableBuffering, a request-body read, the
// message's end, the synchronous phase, the delay timer's sweep.
internal sealed partial class MessageBoundaryPipeWriter
{
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
            InBackground(CommitAllThenFlush(FlushReason.Stream));
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
            var held = HoldsBytes;
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
                    flush = HandOverAll(FlushReason.End);
                }
            }

            Flushed(FlushReason.End);
        }

        return flush.IsCompletedSuccessfully ? default : AwaitFlush(flush);

        static async ValueTask AwaitFlush(ValueTask<FlushResult> flush) => await flush.ConfigureAwait(false);
    }

    /// <summary>
    /// The handler returned while still in the synchronous phase, and nothing of the response is held, in flight or owed
    /// to a send side (most small responses): ends the message, the response and the phase in one step, as
    /// <see cref="EndMessageAsync"/>, <see cref="EndWithoutFlush"/> and <see cref="EndSynchronousPhase"/> would in turn.
    /// False, changing nothing, otherwise. Called on the thread that began the phase (the handler returned to it).
    /// </summary>
    public bool TryEndUnheld()
    {
        if (_pendingAbort is not null || _cork is not null)
        {
            return false;
        }

        using (_synchronousThreadId != 0 ? SyncOnPhaseThread() : Sync())
        {
            if (_synchronousArmedFor != 0 || _buffer.Length > 0 || InFlight(out _) || HoldsBytes)
            {
                return false;
            }

            Forget();
            LeaveSynchronousPhase();
            return true;
        }
    }

    /// <summary>
    /// The middleware is about to run the handler on this thread. Until <see cref="EndSynchronousPhase"/>, only this
    /// thread can reach the writer: the timer watches the writer only once the handler has gone asynchronous (until
    /// then it raises a flag the next write acts on), and a continuation of the handler runs on another thread or after
    /// the phase ended. So the app's calls skip the lock, unless the timer still holds the writer from the connection's
    /// previous response.
    /// </summary>
    public void BeginSynchronousPhase()
    {
        if (!Volatile.Read(ref _registered))
        {
            Volatile.Write(ref _synchronousThreadId, Environment.CurrentManagedThreadId);
            // Writes look at a flag the timer raises (SynchronousDeadline), not at the clock.
            _policy.CheckDelayAtWrites = false;
        }
    }

    /// <summary>The handler returned or went asynchronous: from here on every call takes the lock.</summary>
    public void EndSynchronousPhase()
    {
        // Under the lock once the timer took the writer over: it may be flushing.
        using (Sync())
        {
            LeaveSynchronousPhase();
        }
    }

    // Under Sync().
    private void LeaveSynchronousPhase()
    {
        _synchronousThreadId = 0;
        if (_synchronousArmedFor != 0)
        {
            _synchronousArmedFor = 0;
            _synchronousDeadline.Disarm();
        }

        if (!_watched)
        {
            // Until the timer watches the writer itself (WatchHeldBytes), writes look at the clock.
            _policy.CheckDelayAtWrites = true;
        }
    }

    /// <summary>
    /// On the timer's thread, once held bytes are overdue while the handler still runs synchronously: a handler that
    /// blocks its thread (CPU work, a synchronous call) would hold them until it writes again or returns, where bare
    /// Kestrel sent them at their write. If the handler is not inside one of the writer's calls, the timer takes the
    /// response over (the handler's calls take the lock from here on) and sends what is overdue. Returns when to ask
    /// again (the handler was inside a call, or what is held now is not yet due), or 0.
    /// </summary>
    /// <remarks>
    /// The writer is not handed to the main timer (<see cref="HeldResponseSweeper.Register(MessageBoundaryPipeWriter, long)"/>):
    /// a writer registered there skips the synchronous phase of the connection's next responses until a sweep finds it
    /// holding nothing, which a busy connection may never give it (a chatty benchmark lost that phase for good after
    /// one such deadline, and held writes cost three times as much).
    /// </remarks>
    private long TakeOverSynchronousPhase(long now, long response)
    {
        if (Volatile.Read(ref _takenOverFor) != response)
        {
            // The claim names its response: a handler already on the connection's next one does not honour it.
            Volatile.Write(ref _takenOverFor, response);
            // An asymmetric handshake with Sync(), which counts itself in and then reads the claim with no fence of its
            // own: after this process-wide barrier either its count is visible here, or its next read sees the claim.
            // The cost falls on this rare path (a deadline passed in a synchronous phase), not on every write.
            Interlocked.MemoryBarrierProcessWide();
        }

        if (Volatile.Read(ref _synchronousDepth) != 0)
        {
            // Inside a call: it ends soon, and its next one takes the lock.
            return AfterResolution(now);
        }

        using (Locked())
        {
            // A phase that has ended has nothing to take (the middleware watches what it holds), nor has a later
            // response's. The phase's thread is read before the response: it is written after it.
            if (Volatile.Read(ref _synchronousThreadId) == 0 || Volatile.Read(ref _response) != response || _watched)
            {
                return 0;
            }

            // Nothing registers the writer when a flush of ours in flight completes here (it is not watched): ask again.
            var next = FlushOverdue(now, out var inFlight);
            return inFlight ? AfterResolution(now) : next;
        }
    }

    private long AfterResolution(long now) => now + DeadlineSweeper<MessageBoundaryPipeWriter>.ToTimestampTicks(_timeProvider, HeldResponseSweeper.Resolution);

    // In the synchronous phase, on its thread: the timer raises the flag once what is held now is overdue.
    private void ArmSynchronousDeadline()
    {
        var deadline = _policy.Deadline;
        _synchronousArmedFor = deadline;
        if (_synchronousDeadline.Arm(deadline, _response))
        {
            _sweeper.Register(_synchronousDeadline, deadline);
        }
    }

    /// <summary>The handler went asynchronous: from now on the delay timer watches held bytes.</summary>
    public void WatchHeldBytes()
    {
        using (Locked())
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
            Forget();
        }
    }

    // The response is over: what is held is dropped, and the timer lets go of the writer. Under Sync().
    private void Forget()
    {
        _buffer.Clear();
        _policy.OnFlushed();
        _ended = true;
    }

    /// <summary>
    /// Lets the hold buffer keep a block between this connection's responses; the owner must call
    /// <see cref="ReleaseSpareBlock"/> when the connection ends.
    /// </summary>
    public void KeepSpareBlock() => _buffer.KeepsSpare = true;

    /// <summary>Returns the block kept between responses (the connection ended).</summary>
    public void ReleaseSpareBlock()
    {
        using (Locked())
        {
            _buffer.ReleaseSpare();
        }
    }

    public void Dispose()
    {
        EndWithoutFlush();
        ReleaseSpareBlock();
    }

    /// <summary>
    /// Called by <see cref="HeldResponseSweeper"/> on its thread: flushes if the oldest held byte has waited the full
    /// delay at <paramref name="now"/>. Returns when to look again (a timestamp), or 0 to be let go.
    /// </summary>
    public long OnSweep(long now)
    {
        using (Locked())
        {
            // Let go when nothing is due later; a flush of ours in flight registers the writer again when it completes.
            var next = FlushOverdue(now, out _);
            if (next == 0)
            {
                _registered = false;
            }

            return next;
        }
    }

    // Under _sync, on the timer's thread: sends what is held once its oldest byte has waited the full delay at now.
    // Returns the deadline still ahead, or 0: nothing held, sent now, or not sent because a flush of ours is in flight.
    private long FlushOverdue(long now, out bool inFlight)
    {
        inFlight = false;
        if (_ended || !Holding || Aborting || _policy.Held == 0)
        {
            return 0;
        }

        if (_policy.OnDeadline(now) == FlushReason.None)
        {
            return _policy.Deadline;
        }

        if (InFlight(out _))
        {
            inFlight = true;
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

        return 0;
    }
}
