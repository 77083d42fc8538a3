using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AspNetCore.TcpTuning.Diagnostics;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Owns the send side of a connection whose endpoint has <c>Cork</c> on: everything the connection writes (HTTP, or
/// TLS records beneath it) goes through this pump, which issues the sends itself. Inside a message that takes more
/// than one send, it sends only whole segments (multiples of the connection's MSS, from TCP_INFO, at least
/// <see cref="MinimumSegmentsPerSend"/> at a time, never holding more than half the output buffer) and holds the
/// partial rest until more bytes come, the HTTP layer pushes (an explicit flush, a server-sent event: from then on the
/// message is not held) or the message ends; the send that carries the message's last byte carries the rest too. As
/// with TCP_CORK, the partial segment of a message's first send is held as well: a message that is complete by the
/// time it is read leaves in one send.
/// </summary>
/// <remarks>
/// <para>
/// This is what TCP_CORK does, done where the send is issued. The kernel's cork was measured first: around many small
/// sends it costs far more than it saves on Linux 6.x (each corked send re-runs the transmit path, with BBR's pacing
/// timer, against an ever larger queued skb: 0.18x to 0.45x bare Kestrel's requests per second across a veth pair),
/// while holding the partial segment here gives the same segments with fewer sends and no setsockopt at all.
/// </para>
/// <para>
/// The HTTP layer marks where messages begin and end through <see cref="ITcpCorkControl"/>; nothing is held outside a
/// message (TLS handshakes, HTTP/2, upgraded connections). No byte is held past the endpoint's hold bound (its
/// <c>MaxFlushDelay</c>, as for the flush policy): <see cref="CorkReleaser"/> sends held bytes that long after the pump
/// began to hold them, and that release is counted. Kestrel's own sender is
/// left waiting on its pipe and is completed when this pump ends, so it shuts the socket down as it always does.
/// </para>
/// </remarks>
internal sealed class CorkingSendPump : ITcpCorkControl
{
    /// <summary>
    /// Inside a message, whole segments leave once at least this many are ready. On Linux each send runs the transmit
    /// path (across loopback or a veth pair, the receiver's too, on the sending CPU), so fewer, larger sends cost less:
    /// 100 KiB in 1 KiB writes across the veth pair measured 0.85x, 1.1x, 1.25x and 1.4x bare Kestrel's requests per
    /// second with 1, 4, 8 and 16. The wire carries the same whole segments either way; the end never waits for it.
    /// </summary>
    internal const int MinimumSegmentsPerSend = 8;

    private readonly Socket _socket;
    private readonly PipeWriter _transportOutput;
    private readonly Pipe _pipe;
    private readonly TcpTuningMetrics _metrics;
    private readonly CorkReleaser _releaser;
    private readonly TimeProvider _timeProvider;
    private readonly long _holdBoundTicks;
    private readonly List<ArraySegment<byte>> _segments = [];

    // A pipe's backpressure counts only bytes its reader has not examined, and held bytes have been: nothing would stop
    // the pump from holding a whole response while it waits for segments to fill (64 KiB ones on loopback). It holds
    // at most half of the write buffer that Kestrel's own sender would allow.
    private readonly long _holdLimit;

    // Written on the connection's writing side, read by the pump.
    private long _written;
    private long _messageEnd = -1;
    private volatile bool _inMessage;
    private volatile bool _endAtNextFlush;
    // Set by a push, until the message ends: nothing more of it is held.
    private volatile bool _pushed;
    private volatile bool _releaseRequested;
    // Set when the app waits for the peer, until the pump next sends or the next message begins: nothing is held meanwhile.
    private volatile bool _peerWaiting;
    private volatile bool _watched;

    // Set by an abort that waits for the bytes the pump owes; completed by the pump after its next send, or at its end.
    private TaskCompletionSource? _heldSent;

    // Set by the pump while it holds bytes (when it began to), 0 otherwise; read by the writing side and the safety net.
    private long _heldSince;

    // The pump's own state.
    private long _sent;
    private int _segmentSize = -1; // -1: to be read for the current message
    private bool _heldInMessage;

    /// <param name="socket">The connection's socket, which the pump sends on.</param>
    /// <param name="transportOutput">Kestrel's own output, completed when the pump ends.</param>
    /// <param name="maxBufferedBytes">Kestrel's MaxWriteBufferSize (0 or less: unlimited).</param>
    /// <param name="holdBound">How long a byte may be held at most (the endpoint's effective <c>MaxFlushDelay</c>).</param>
    /// <param name="metrics">The library's instruments.</param>
    /// <param name="releaser">The server-wide timer that enforces the bound.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="quickAck">The connection's QuickAck controller, told about writes, or null.</param>
    /// <param name="pool">Kestrel's block pool for the pump's pipe, or null for the shared one.</param>
    public CorkingSendPump(Socket socket, PipeWriter transportOutput, long maxBufferedBytes, TimeSpan holdBound, TcpTuningMetrics metrics, CorkReleaser releaser, TimeProvider timeProvider, QuickAckController? quickAck = null, MemoryPool<byte>? pool = null)
    {
        _holdBoundTicks = DeadlineSweeper<CorkingSendPump>.ToTimestampTicks(timeProvider, holdBound);
        QuickAck = quickAck;
        _socket = socket;
        _transportOutput = transportOutput;
        _metrics = metrics;
        _releaser = releaser;
        _timeProvider = timeProvider;
        // Kestrel's MaxWriteBufferSize (null: unlimited) bounds this pipe as it bounds Kestrel's own.
        var pause = Math.Max(0, maxBufferedBytes);
        _holdLimit = pause > 0 ? pause / 2 : long.MaxValue;
        // The pump wakes like Kestrel's own senders, in batches (SendScheduler), not one thread-pool item per flush;
        // a wake that would only hold again runs inline.
        _pipe = new Pipe(new PipeOptions(pool, readerScheduler: new CorkingPumpScheduler(this, SendScheduler.Next()), pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, minimumSegmentSize: pool?.MaxBufferSize is > 0 and var size ? size : -1, useSynchronizationContext: false));
        Output = new CorkingPipeWriter(_pipe.Writer, this);
    }

    /// <summary>The connection's QuickAck controller, told about writes by <see cref="CorkingPipeWriter"/>.</summary>
    internal QuickAckController? QuickAck { get; }

    /// <summary>The connection's output, to install as <c>Transport.Output</c>.</summary>
    public PipeWriter Output { get; }

    /// <summary>
    /// Read on the writing side as it flushes: whether the pump, woken now, would send nothing (it holds less than a
    /// segment of a message not pushed, with no end or release pending). A guess without a lock, for scheduling only.
    /// </summary>
    internal bool WakeWouldOnlyHold
    {
        get
        {
            // Not holding is the common case: answered before the fenced reads below, on every flush.
            if (Volatile.Read(ref _heldSince) == 0)
            {
                return false;
            }

            var segmentSize = Volatile.Read(ref _segmentSize);
            return CorkHoldPolicy.WakeWouldOnlyHold(
                holding: true,
                _inMessage,
                releasePending: _releaseRequested,
                _pushed,
                sent: Volatile.Read(ref _sent),
                written: Volatile.Read(ref _written),
                messageEnd: Interlocked.Read(ref _messageEnd),
                segmentSize,
                threshold: segmentSize > 0 ? SendThreshold(segmentSize) : 0);
        }
    }

    /// <summary>Completes when the pump has sent everything and handed the connection's end to Kestrel's sender.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    /// <inheritdoc />
    public void BeginMessage()
    {
        // HTTP/1.x responses are written one after another: whatever was written before this one began belongs to the
        // previous message, even if its end was not marked (or was to be marked at a flush that never came).
        if (_inMessage || _endAtNextFlush)
        {
            EndMessage(atNextFlush: false);
        }

        _pushed = false;
        _peerWaiting = false;
        _inMessage = true;
    }

    /// <inheritdoc />
    public void Push() => _pushed = true;

    /// <inheritdoc />
    public void SendHeldNow()
    {
        _peerWaiting = true;
        // As in EndMessage: the flag is published with a full fence before _heldSince is read.
        if (Interlocked.Read(ref _heldSince) != 0)
        {
            _pipe.Reader.CancelPendingRead();
        }
    }

    /// <summary>
    /// The connection is about to be aborted: what the pump has not sent yet (held, or flushed to it and not yet read)
    /// leaves first, as bytes flushed to Kestrel's own sender would have. Returns a task that completes once the pump
    /// has sent (or stopped), or null when it owes nothing.
    /// </summary>
    internal Task? SendHeldBeforeAbort()
    {
        if (!OwesBytes())
        {
            return null;
        }

        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _heldSent, sent);
        SendHeldNow();
        if (!OwesBytes())
        {
            // Sent meanwhile.
            sent.TrySetResult();
        }

        return sent.Task;
    }

    private bool OwesBytes() => Volatile.Read(ref _written) > Volatile.Read(ref _sent);

    /// <inheritdoc />
    public void EndMessage(bool atNextFlush)
    {
        if (atNextFlush)
        {
            _endAtNextFlush = true;
            return;
        }

        _endAtNextFlush = false;
        MarkEnd();
        // Everything of the message may be written already, with its tail held: wake the pump to send it now. The
        // end is published with a full fence before this read, and the pump publishes _heldSince with one before it
        // reads the end, so at least one of the two sees the other.
        if (Interlocked.Read(ref _heldSince) != 0)
        {
            _pipe.Reader.CancelPendingRead();
        }
    }

    /// <summary>
    /// Called by <see cref="CorkReleaser"/> at a sweep: sends bytes held too long. Returns when to look again (a
    /// timestamp), or 0 to stop watching.
    /// </summary>
    internal long OnSweep(long now)
    {
        var since = Volatile.Read(ref _heldSince);
        if (since != 0)
        {
            var deadline = since + _holdBoundTicks;
            if (now < deadline)
            {
                return deadline;
            }

            _releaseRequested = true;
            _pipe.Reader.CancelPendingRead();
        }

        // Let go, then look again: a hold that began meanwhile may have seen _watched still set and not asked. Bytes
        // still held after a release request are looked at again as soon as the releaser sweeps again.
        _watched = false;
        Interlocked.MemoryBarrier();
        since = Interlocked.Read(ref _heldSince);
        if (since != 0)
        {
            _watched = true;
            return since + _holdBoundTicks;
        }

        return 0;
    }

    internal void OnAdvanced(long bytes)
    {
        Volatile.Write(ref _written, _written + bytes);
        QuickAck?.OnWrite();
    }

    internal void OnFlushing()
    {
        if (_endAtNextFlush)
        {
            _endAtNextFlush = false;
            MarkEnd();
        }
    }

    private void MarkEnd()
    {
        Interlocked.Exchange(ref _messageEnd, Volatile.Read(ref _written));
        _inMessage = false;
    }

    private async Task RunAsync()
    {
        Exception? error = null;
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var sendable = result.IsCompleted ? buffer.Length : SendableLength(buffer.Length);
                if (sendable > 0)
                {
                    if (!await TrySendAsync(buffer.Slice(0, sendable)).ConfigureAwait(false))
                    {
                        break;
                    }

                    SignalHeldSent();
                }

                // What is held stays unconsumed; having examined it all, the next read waits for more, or for a wake-up.
                reader.AdvanceTo(buffer.GetPosition(sendable), buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException)
        {
            // Unexpected: the writers see it, as they see an unexpected error of Kestrel's own sender.
            error = ex;
        }
        finally
        {
            // Nothing is held once the pump stops (sent, or lost with the connection): the releaser lets it go.
            StopHolding();
            SignalHeldSent();
            await reader.CompleteAsync(error).ConfigureAwait(false);
            await _transportOutput.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends <paramref name="buffer"/>; false when the connection has ended under the send. A reset goes to Kestrel's
    /// own sender with the bytes that met it: that sender meets the same error and ends the connection as it would
    /// without the pump (the reset logged at Debug, the connection aborted with a <c>ConnectionResetException</c>),
    /// and the writers here see a completed pipe, not an exception. An aborted connection (the socket disposed under
    /// the send) is Kestrel's doing already.
    /// </summary>
    private async ValueTask<bool> TrySendAsync(ReadOnlySequence<byte> buffer)
    {
        try
        {
            await SendAsync(buffer).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            if (ex is SocketException)
            {
                foreach (var segment in buffer)
                {
                    _transportOutput.Write(segment.Span);
                }

                await _transportOutput.FlushAsync().ConfigureAwait(false);
            }

            return false;
        }
    }

    // An abort waiting for the held bytes learns they were sent; a plain read first, as no abort waits on most sends.
    private void SignalHeldSent()
    {
        if (Volatile.Read(ref _heldSent) is not null)
        {
            Interlocked.Exchange(ref _heldSent, null)?.TrySetResult();
        }
    }

    // The errors Kestrel's SocketConnection takes for the connection's end (reset, or aborted under the send).
    private static bool IsConnectionEnd(Exception ex)
        => ex is ObjectDisposedException
            || ex is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted or SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument };

    /// <summary>How much of the <paramref name="available"/> bytes to send now; the rest is held.</summary>
    private long SendableLength(long available)
    {
        var released = _releaseRequested;
        _releaseRequested = false;

        if (_peerWaiting && available > 0)
        {
            _peerWaiting = false;
            StopHolding();
            return available;
        }

        if (MustSendAll(available))
        {
            StopHolding();
            return available;
        }

        if (_segmentSize < 0)
        {
            // Read once per message that needs it (it can shrink with the path MTU); without it nothing is held.
            _segmentSize = TcpConnectionInfo.TryRead(_socket, out var info) ? info.SendMaximumSegmentSize : 0;
        }

        if (_segmentSize <= 0)
        {
            StopHolding();
            return available;
        }

        // Whole segments leave once enough of them are ready, or once as much is here as may be held (all of it if a
        // segment is larger than that); the partial rest, or everything below that, is held.
        var sendNow = CorkHoldPolicy.SendNow(available, _segmentSize, SendThreshold(_segmentSize));
        if (sendNow == available)
        {
            StopHolding();
            return available;
        }

        if (released)
        {
            // Counted before the send, so whoever sees the bytes also sees the count.
            _metrics.CorkSafetyReleased();
            StopHolding();
            return available;
        }

        // Publish that bytes are held, then look at the end (and a waiting peer) again: one marked meanwhile may not have
        // seen it. The bound counts from when holding began, not from the last write: the oldest held byte waits no
        // longer than the bound, however long the message keeps coming.
        var wasHolding = Volatile.Read(ref _heldSince) != 0;
        if (!wasHolding)
        {
            var heldSince = _timeProvider.GetTimestamp();
            Interlocked.Exchange(ref _heldSince, heldSince);
            if (MustSendAll(available) || _peerWaiting)
            {
                _peerWaiting = false;
                StopHolding();
                return available;
            }

            if (!_watched)
            {
                _watched = true;
                _releaser.Watch(this, heldSince + _holdBoundTicks);
            }

            if (!_heldInMessage)
            {
                _heldInMessage = true;
                _metrics.Corked();
            }
        }

        return sendNow;
    }

    private long SendThreshold(int segmentSize) => CorkHoldPolicy.SendThreshold(segmentSize, MinimumSegmentsPerSend, _holdLimit);

    /// <summary>
    /// Outside a message, once it was pushed, or with its end among the <paramref name="available"/> bytes: everything
    /// leaves (bytes after an end are the next message's first). An end beyond them is of bytes still being flushed
    /// (they are counted before their flush), and that flush wakes the pump again: until then, hold.
    /// </summary>
    private bool MustSendAll(long available)
        => CorkHoldPolicy.MustSendAll(_pushed, _inMessage, _sent, Interlocked.Read(ref _messageEnd), available);

    private void StopHolding()
    {
        if (Volatile.Read(ref _heldSince) != 0)
        {
            Volatile.Write(ref _heldSince, 0);
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        var end = _sent + buffer.Length;
        var messageEnd = Interlocked.Read(ref _messageEnd);
        var containsEnd = messageEnd > _sent && messageEnd <= end;

        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
        }
        else
        {
            _segments.Clear();
            foreach (var segment in buffer)
            {
                _segments.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
            }

            await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        }

        Volatile.Write(ref _sent, end);
        if (containsEnd)
        {
            _segmentSize = -1;
            _heldInMessage = false;
        }
    }
}
