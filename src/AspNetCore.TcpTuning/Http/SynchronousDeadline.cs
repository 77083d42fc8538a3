namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The delay's deadline of a response whose handler still runs synchronously. The writer's calls skip its lock then,
/// so the timer may not flush; it raises this flag instead and the handler's next write flushes. Checking a flag at
/// each write costs a volatile read where reading the clock cost a system clock call. A handler that blocks its thread
/// instead of writing again would hold the bytes past the deadline: the timer then asks the owner to take the writer
/// over (<see cref="OnSweep"/>), again and again until it can.
/// </summary>
/// <param name="takeOver">
/// Given the time now and the token the deadline was armed with (the owner's response), takes the writer over; returns
/// when to ask again, or 0 when it took it or there is nothing to take.
/// </param>
internal sealed class SynchronousDeadline(Func<long, long, long>? takeOver = null)
{
    private readonly Lock _lock = new();
    private long _deadline; // 0: not armed
    private long _token;
    private bool _watched;
    private bool _takeOverPending;
    private volatile bool _passed;

    /// <summary>Whether the armed deadline has passed (the timer saw it).</summary>
    public bool Passed => _passed;

    /// <summary>
    /// Arms for <paramref name="deadline"/>, replacing any earlier one, on behalf of <paramref name="token"/>; true when
    /// the timer must be told to watch.
    /// </summary>
    public bool Arm(long deadline, long token = 0)
    {
        lock (_lock)
        {
            _deadline = deadline;
            _token = token;
            _passed = false;
            _takeOverPending = false;
            if (_watched)
            {
                return false;
            }

            _watched = true;
            return true;
        }
    }

    /// <summary>Nothing is held any more, or the handler left its synchronous phase.</summary>
    public void Disarm()
    {
        lock (_lock)
        {
            _deadline = 0;
            _passed = false;
            _takeOverPending = false;
        }
    }

    /// <summary>
    /// On the timer's thread: raises the flag once the deadline passed and asks the owner to take the writer over (the
    /// owner answers when to ask again, or 0 when it took it or has nothing to take); returns when to look again, or 0
    /// to be let go.
    /// </summary>
    public long OnSweep(long now)
    {
        long token;
        lock (_lock)
        {
            if (_deadline != 0 && now < _deadline)
            {
                return _deadline;
            }

            if (_deadline != 0)
            {
                _passed = true;
                _deadline = 0;
                _takeOverPending = takeOver is not null;
            }

            if (!_takeOverPending)
            {
                _watched = false;
                return 0;
            }

            token = _token;
        }

        // Outside this lock: the owner takes its own, and the handler arms this flag under the owner's.
        var retry = takeOver!(now, token);
        lock (_lock)
        {
            if (_deadline != 0)
            {
                // Armed anew meanwhile (the handler wrote again): that deadline is the one to watch.
                return _deadline;
            }

            if (retry != 0 && _takeOverPending)
            {
                return retry;
            }

            _takeOverPending = false;
            _watched = false;
            return 0;
        }
    }
}
