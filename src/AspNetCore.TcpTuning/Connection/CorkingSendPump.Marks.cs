namespace AspNetCore.TcpTuning.Connection;

// The message marks: how the writing side tells the pump where messages begin and end, and that the peer waits.
internal sealed partial class CorkingSendPump
{
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
    public void Push()
    {
        _pushed = true;

        // A push may come without new bytes (an explicit flush after a flushed write): nothing else would wake a
        // pump that already holds what was written before the bound.
        WakeIfHolding();
    }

    /// <inheritdoc />
    public void SendHeldNow()
    {
        _peerWaiting = true;
        WakeIfHolding();
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

        if (Volatile.Read(ref _heldSince) != 0)
        {
            // Part of a message that will never end normally was held.
            _metrics.CorkReleased(_endpointName, ReleaseReasonAbort);
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
        // Everything of the message may be written already, with its tail held: the pump sends it now.
        WakeIfHolding();
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

    // After a mark (an end, a push, a waiting peer): wakes the pump if it holds bytes the mark releases. The mark was
    // published before this fenced read, and the pump publishes _heldSince with a fence before it reads the marks, so
    // at least one of the two sees the other.
    private void WakeIfHolding()
    {
        if (Interlocked.Read(ref _heldSince) != 0)
        {
            _pipe.Reader.CancelPendingRead();
        }
    }
}
