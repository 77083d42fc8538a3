namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Tells, for one connection's input, whether bytes that just arrived had waited for the server's delayed ACK. A peer
/// held back by Nagle's algorithm sends the rest of a message only once its earlier segment is acknowledged: the server
/// examined all it had and wrote nothing (no ACK rode on a response), and the rest arrived one ACK delay after the
/// reader began to wait for it. Pure: times come from a <see cref="TimeProvider"/>; the reader calls it one read at a time.
/// </summary>
/// <remarks>
/// The clock is read only where a wait mid-message begins and where it ends: every other read passes without one (a
/// clock read per read was about 1% of the server's time per pipelined request). The wait begins right after the
/// earlier bytes were read and parsed, on the same thread, so it times the same gap to within that parse.
/// </remarks>
internal sealed class DelayedAckStallDetector(TimeProvider timeProvider)
{
    private static readonly TimeSpan s_minimumSlack = TimeSpan.FromMilliseconds(5);

    // How late a loaded server's reads time a stall: with 2 ms, a fifth of the stalls went uncounted beside two busy cores.
    private static readonly TimeSpan s_lateReads = TimeSpan.FromMilliseconds(8);

    private bool _arrived;
    private bool _waiting;
    private long _waitingSince;
    private TimeSpan _ackDelay;
    private TimeSpan _roundTrip;

    /// <summary>
    /// The reader is about to wait for the rest of an incomplete message, with the server's ACK delay and the round
    /// trip as they are now.
    /// </summary>
    public void OnWaitingMidMessage(TimeSpan ackDelay, TimeSpan roundTrip)
    {
        // A read that returned nothing (a cancelled one) and waits again still waits since the first time.
        if (_arrived && !_waiting)
        {
            _waiting = true;
            _waitingSince = timeProvider.GetTimestamp();
            _ackDelay = ackDelay;
            _roundTrip = roundTrip;
        }
    }

    /// <summary>A read returned bytes: how long they waited when that is a delayed ACK's wait, else <see langword="null"/>.</summary>
    public TimeSpan? OnArrived()
    {
        _arrived = true;
        if (!_waiting)
        {
            return null;
        }

        _waiting = false;
        var gap = timeProvider.GetElapsedTime(_waitingSince);
        return Matches(gap, _ackDelay, _roundTrip) ? gap : null;
    }

    /// <summary>
    /// Whether a wait of <paramref name="gap"/> is the ACK delay's. Nagle holds the rest for a round trip even when the
    /// ACK leaves at once (the ACK's trip and the data's), so the stall is what the wait adds to the round trip. The timer
    /// fires on a tick (4 ms at HZ=250: Linux's 40 ms is 44 as a rule), and the reads that time it are scheduled, on a
    /// loaded server milliseconds late: from an eighth of the delay (at least 5 ms) below it to an eighth and 8 ms above.
    /// On Linux that is 35 to 53 ms.
    /// </summary>
    public static bool Matches(TimeSpan gap, TimeSpan ackDelay, TimeSpan roundTrip)
    {
        var below = ackDelay / 8 > s_minimumSlack ? ackDelay / 8 : s_minimumSlack;
        var above = ackDelay / 8 + s_lateReads;
        var added = gap - roundTrip;
        return added >= ackDelay - below && added <= ackDelay + above;
    }
}
