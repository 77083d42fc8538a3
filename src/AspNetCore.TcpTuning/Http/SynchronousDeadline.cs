namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// The delay's deadline of a response whose handler still runs synchronously. The writer's calls skip its lock then,
/// so the timer may not flush; it raises this flag instead and the handler's next write flushes. Checking a flag at
/// each write costs a volatile read where reading the clock cost a system clock call.
/// </summary>
internal sealed class SynchronousDeadline
{
    private readonly Lock _lock = new();
    private long _deadline; // 0: not armed
    private bool _watched;
    private volatile bool _passed;

    /// <summary>Whether the armed deadline has passed (the timer saw it).</summary>
    public bool Passed => _passed;

    /// <summary>Arms for <paramref name="deadline"/>, replacing any earlier one; true when the timer must be told to watch.</summary>
    public bool Arm(long deadline)
    {
        lock (_lock)
        {
            _deadline = deadline;
            _passed = false;
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
        }
    }

    /// <summary>On the timer's thread: raises the flag once the deadline passed; returns when to look again, or 0 to be let go.</summary>
    public long OnSweep(long now)
    {
        lock (_lock)
        {
            if (_deadline != 0 && now < _deadline)
            {
                return _deadline;
            }

            _passed = _deadline != 0;
            _deadline = 0;
            _watched = false;
            return 0;
        }
    }
}
