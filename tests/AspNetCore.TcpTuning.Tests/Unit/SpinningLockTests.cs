using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class SpinningLockTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Enter_TwoThreads_EachSectionRunsAlone()
    {
        // Read, then write a moment later: two sections that overlap lose an increment.
        const int PerThread = 200_000;
        var guarded = new Guarded();
        using var start = new Barrier(2);

        void Run()
        {
            start.SignalAndWait();
            for (var i = 0; i < PerThread; i++)
            {
                guarded.Lock.Enter();
                var value = guarded.Count;
                Thread.SpinWait(i % 8);
                guarded.Count = value + 1;
                guarded.Lock.Exit();
            }
        }

        await Task.WhenAll(Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning), Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning)).WaitAsync(s_wait);

        Assert.Equal(2 * PerThread, guarded.Count);
    }

    [Fact]
    public async Task Enter_WhileAnotherThreadHoldsIt_WaitsUntilItLeaves()
    {
        var guarded = new Guarded();
        guarded.Lock.Enter();

        var entered = Task.Factory.StartNew(() =>
        {
            guarded.Lock.Enter();
            guarded.Count++;
            guarded.Lock.Exit();
        }, TaskCreationOptions.LongRunning);

        await Task.Delay(100);
        Assert.False(entered.IsCompleted);
        Assert.Equal(0, guarded.Count);

        guarded.Lock.Exit();
        await entered.WaitAsync(s_wait);
        Assert.Equal(1, guarded.Count);
    }

    [Fact]
    public async Task Enter_AgainOnTheOwnersThread_NestsAndFreesAtTheOutermostExit()
    {
        var guarded = new Guarded();
        guarded.Lock.Enter();
        guarded.Lock.Enter();
        Assert.True(guarded.Lock.IsHeldByCurrentThread);

        guarded.Lock.Exit();
        Assert.True(guarded.Lock.IsHeldByCurrentThread);
        var other = Task.Factory.StartNew(() =>
        {
            guarded.Lock.Enter();
            guarded.Lock.Exit();
        }, TaskCreationOptions.LongRunning);
        await Task.Delay(50);
        Assert.False(other.IsCompleted);

        guarded.Lock.Exit();
        Assert.False(guarded.Lock.IsHeldByCurrentThread);
        await other.WaitAsync(s_wait);
    }

    // A class around the lock: the mutable struct is entered in place, as the writer's field is.
    private sealed class Guarded
    {
        public SpinningLock Lock;
        public int Count;
    }
}
