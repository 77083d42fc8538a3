using System.Collections.Concurrent;
using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Runs the send pumps' continuations in batches, the way Kestrel's socket transport runs its own senders (its
/// <c>IOQueue</c>): one thread-pool work item drains every continuation queued meanwhile, so a busy server wakes once
/// for many connections and each pump finds more bytes to send at once, instead of one dispatch and one send per flush.
/// </summary>
internal sealed class SendScheduler : PipeScheduler, IThreadPoolWorkItem
{
    private static readonly SendScheduler[] s_schedulers = CreateSchedulers();
    private static int s_next;

    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _work = new();
    private int _running;

    /// <summary>One of a few shared schedulers (one per processor, at most 16, as Kestrel), handed out in turn.</summary>
    public static SendScheduler Next() => Next(s_schedulers, ref s_next);

    /// <summary>The scheduler after the one <paramref name="next"/> last pointed at, in turn.</summary>
    internal static SendScheduler Next(SendScheduler[] schedulers, ref int next)
        => schedulers[(int)((uint)Interlocked.Increment(ref next) % (uint)schedulers.Length)];

    /// <summary>The number of shared schedulers: one per processor, at most 16.</summary>
    internal static int Count => s_schedulers.Length;

    public override void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue((action, state));
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            while (_work.TryDequeue(out var item))
            {
                item.Action(item.State);
            }

            // Stop, then look again: work queued after the last dequeue but before the stop saw _running still set.
            Volatile.Write(ref _running, 0);
            Interlocked.MemoryBarrier();
            if (_work.IsEmpty || Interlocked.Exchange(ref _running, 1) == 1)
            {
                return;
            }
        }
    }

    private static SendScheduler[] CreateSchedulers()
    {
        var schedulers = new SendScheduler[Math.Clamp(Environment.ProcessorCount, 1, 16)];
        for (var i = 0; i < schedulers.Length; i++)
        {
            schedulers[i] = new SendScheduler();
        }

        return schedulers;
    }
}
