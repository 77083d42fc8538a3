using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Connection;

// The hold decision: what of the available bytes leaves now, and the bound on how long the rest may wait.
internal sealed partial class CorkingSendPump
{
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
            _segmentSize = ReadSegmentSize();
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
            _metrics.CorkReleased(_endpointName, ReleaseReasonBound);
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
                _metrics.CorkHeld(_endpointName);
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

    private int ReadSegmentSize()
    {
        Span<byte> raw = stackalloc byte[TcpInfoReader.Size];
        var length = TcpInfoReader.TryRead(_socket, raw);
        return length < 0 ? 0 : (int)TcpInfoReader.Read(raw[..length], TcpInfoField.SendMaximumSegmentSize);
    }
}
