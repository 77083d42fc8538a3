namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// What the corking send side sends and what it holds, as pure arithmetic over what it knows: bytes sent so far, bytes
/// available, where the message ends, the segment size. One place for the rules that the pump's send loop and the
/// writers' wake-up guess both apply.
/// </summary>
internal static class CorkHoldPolicy
{
    /// <summary>
    /// Everything available leaves: the message was pushed, its end is among the available bytes (bytes after it are
    /// the next message's first), or no message is open and the last end is behind. An end beyond the available bytes
    /// is of bytes still being flushed: hold until that flush.
    /// </summary>
    public static bool MustSendAll(bool pushed, bool inMessage, long sent, long messageEnd, long available)
        => pushed
            || (messageEnd > sent && messageEnd <= sent + available)
            || (messageEnd <= sent && !inMessage);

    /// <summary>How many bytes must be ready before whole segments leave: a few segments, at most the hold limit.</summary>
    public static long SendThreshold(int segmentSize, int minimumSegmentsPerSend, long holdLimit)
        => Math.Min((long)segmentSize * minimumSegmentsPerSend, holdLimit);

    /// <summary>
    /// Inside a message that holds: nothing below the threshold; at or above it, the whole segments (the partial rest
    /// stays), or everything when not one segment is whole (a segment larger than the hold limit).
    /// </summary>
    public static long SendNow(long available, int segmentSize, long threshold)
    {
        if (available < threshold)
        {
            return 0;
        }

        var whole = available - (available % segmentSize);
        return whole > 0 ? whole : available;
    }

    /// <summary>
    /// Whether waking the pump would only have it hold again: it holds within an open message, not pushed, with no end
    /// or release pending, and fewer bytes written than the threshold.
    /// </summary>
    public static bool WakeWouldOnlyHold(bool holding, bool inMessage, bool releasePending, bool pushed, long sent, long written, long messageEnd, int segmentSize, long threshold)
        => holding && inMessage && !releasePending && !pushed
            && segmentSize > 0
            && messageEnd <= sent
            && written - sent < threshold;
}
