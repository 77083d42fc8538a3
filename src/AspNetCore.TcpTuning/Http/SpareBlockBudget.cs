namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// How many pool blocks hold buffers may keep between responses. A kept block saves a rent and a return per response
/// on a busy connection, but an idle keep-alive connection pins it, where bare Kestrel keeps no output block: the
/// budget bounds that memory (<see cref="Shared"/>: 64 blocks of 4 KiB per processor).
/// </summary>
internal sealed class SpareBlockBudget(int capacity)
{
    private int _available = capacity;

    /// <summary>The process's budget, shared by every connection.</summary>
    public static SpareBlockBudget Shared { get; } = new(64 * Environment.ProcessorCount);

    public bool TryTake()
    {
        // Spent, a buffer asks again at each response: a read leaves the shared counter's cache line unwritten.
        if (Volatile.Read(ref _available) <= 0)
        {
            return false;
        }

        if (Interlocked.Decrement(ref _available) >= 0)
        {
            return true;
        }

        Interlocked.Increment(ref _available);
        return false;
    }

    public void Give() => Interlocked.Increment(ref _available);
}
