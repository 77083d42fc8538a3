using AspNetCore.TcpTuning.Connection;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class SendSchedulerTests
{
    [Fact]
    public async Task Schedule_FromManyThreads_RunsEveryItemExactlyOnce()
    {
        const int Threads = 4;
        const int PerThread = 5_000;
        var scheduler = SendScheduler.Next();
        var runs = new int[Threads * PerThread];
        var remaining = runs.Length;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                scheduler.Schedule(
                    static state =>
                    {
                        var (runs, index, signal) = ((int[], int, Action))state!;
                        Interlocked.Increment(ref runs[index]);
                        signal();
                    },
                    (runs, t * PerThread + i, (Action)(() =>
                    {
                        if (Interlocked.Decrement(ref remaining) == 0)
                        {
                            done.SetResult();
                        }
                    })));
            }
        })));

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Next_HandsOutSchedulersInTurn()
    {
        // A ring of its own: connections other tests open meanwhile take from the shared one.
        SendScheduler[] ring = [new(), new(), new()];
        var next = 0;
        var handedOut = Enumerable.Range(0, 7).Select(_ => SendScheduler.Next(ring, ref next)).ToList();

        SendScheduler[] expected = [ring[1], ring[2], ring[0], ring[1], ring[2], ring[0], ring[1]];
        Assert.Equal(expected, handedOut);
    }

    [Fact]
    public void Shared_OnePerProcessor_AtMostSixteen()
    {
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 16), SendScheduler.Count);
    }
}
