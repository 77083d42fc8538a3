using AspNetCore.TcpTuning.Configuration;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The pure decision of the message-boundary policy: given the events of one response (a write ended, an explicit
/// flush, a deadline, a request-body read, the end), whether held bytes wait or leave, and until when. It knows no
/// Kestrel, socket or clock; the writer passes it timestamps and carries out its answers.
/// </summary>
internal sealed class HoldPolicy
{
    private int _threshold = TcpTuningDefaults.FlushThreshold;
    private long _delayTicks;
    private bool _honorExplicitFlush = true;
    private long _held;
    private long _oldestHeld;

    /// <summary>Bytes whose write has ended and that wait for a flush.</summary>
    public long Held => _held;

    /// <summary>When the oldest held byte will have waited the full delay (a timestamp); meaningful while <see cref="Held"/> &gt; 0.</summary>
    public long Deadline => _oldestHeld + _delayTicks;

    /// <summary>
    /// Whether the delay is checked at each ended write (the handler runs synchronously, no timer watches it). When
    /// false, a timer watches the deadline and writes need no clock.
    /// </summary>
    public bool CheckDelayAtWrites { get; set; } = true;

    /// <summary>
    /// Whether an ended write needs the time: the first held byte starts the delay, and writes may check it; a write
    /// that completes the body leaves at once, whenever it is.
    /// </summary>
    public bool NeedsTime(bool completesBody) => !completesBody && (_held == 0 || CheckDelayAtWrites);

    /// <summary>Starts a response with these settings; <paramref name="delayTicks"/> is the delay in timestamp ticks.</summary>
    public void Reset(int threshold, long delayTicks, bool honorExplicitFlush)
    {
        _threshold = threshold;
        _delayTicks = delayTicks;
        _honorExplicitFlush = honorExplicitFlush;
        _held = 0;
        _oldestHeld = 0;
        CheckDelayAtWrites = true;
    }

    /// <summary>
    /// A write of <paramref name="bytes"/> ended (a write call, or <c>FlushAsync</c> after <c>Advance</c>) at
    /// <paramref name="now"/>; <paramref name="completesBody"/> when it brings a declared Content-Length body to its end.
    /// </summary>
    public FlushReason OnWriteEnded(long bytes, long now, bool completesBody)
    {
        if (bytes > 0)
        {
            if (_held == 0)
            {
                _oldestHeld = now;
            }

            _held += bytes;
        }

        if (completesBody)
        {
            return FlushReason.End;
        }

        if (_held == 0)
        {
            return FlushReason.None;
        }

        if (_held >= _threshold)
        {
            return FlushReason.Threshold;
        }

        return CheckDelayAtWrites && now - _oldestHeld >= _delayTicks ? FlushReason.Delay : FlushReason.None;
    }

    /// <summary>
    /// Counts a write of <paramref name="bytes"/> that ended, when that is all <see cref="OnWriteEnded"/> would do:
    /// bytes are already held, the timer watches the delay, and the threshold is not reached. False, changing nothing,
    /// otherwise.
    /// </summary>
    public bool TryAddHeld(long bytes)
    {
        if (_held == 0 || CheckDelayAtWrites || _held + bytes >= _threshold)
        {
            return false;
        }

        _held += bytes;
        return true;
    }

    /// <summary>
    /// A write of <paramref name="bytes"/> that is too large to be worth holding arrives: whatever is held leaves first
    /// and the write follows without being held (Kestrel's backpressure then applies to it as to any write).
    /// </summary>
    public bool IsLargeWrite(long bytes) => bytes >= _threshold;

    /// <summary>The app flushed explicitly; <paramref name="now"/> as for a write.</summary>
    public FlushReason OnExplicitFlush(long bytes, long now, bool completesBody)
    {
        var reason = OnWriteEnded(bytes, now, completesBody);
        if (reason is FlushReason.None && _honorExplicitFlush)
        {
            return FlushReason.Explicit;
        }

        return reason;
    }

    /// <summary>The timer looks at the response at <paramref name="now"/>: flush, or look again at <see cref="Deadline"/>.</summary>
    public FlushReason OnDeadline(long now)
        => _held > 0 && now >= Deadline ? FlushReason.Delay : FlushReason.None;

    /// <summary>The app is about to wait for the request body.</summary>
    public FlushReason OnRequestBodyRead() => _held > 0 ? FlushReason.BeforeRead : FlushReason.None;

    /// <summary>The app failed: what it had ended must leave as Kestrel would have sent it.</summary>
    public FlushReason OnError() => _held > 0 ? FlushReason.Error : FlushReason.None;

    /// <summary>The held bytes were handed to the wire.</summary>
    public void OnFlushed() => _held = 0;
}
