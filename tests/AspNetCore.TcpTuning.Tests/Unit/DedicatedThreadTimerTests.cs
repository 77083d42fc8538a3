using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class DedicatedThreadTimerTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Change_FiresOnceOnABackgroundThreadOfItsOwn()
    {
        var fired = new Firings();
        using var timer = new DedicatedThreadTimer(static state => ((Firings)state!).Record(), fired, "test timer");

        Assert.True(timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan));
        var thread = await fired.First.WaitAsync(s_wait);
        await Task.Delay(50);

        Assert.Equal("test timer", thread.Name);
        Assert.True(thread.IsBackground);
        Assert.Equal(1, fired.Count);
    }

    [Fact]
    public void Constructor_StartsNoThreadUntilArmed()
    {
        using var timer = new DedicatedThreadTimer(static _ => { }, null, "test timer");

        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        Assert.False(timer.HasThread);
    }

    [Fact]
    public async Task Change_Infinite_Disarms()
    {
        var fired = new Firings();
        using var timer = new DedicatedThreadTimer(static state => ((Firings)state!).Record(), fired, "test timer");

        timer.Change(TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        await Task.Delay(300);

        Assert.Equal(0, fired.Count);
    }

    [Fact]
    public async Task Change_ToAnEarlierDueTime_WakesTheWaitingThread()
    {
        var fired = new Firings();
        using var timer = new DedicatedThreadTimer(static state => ((Firings)state!).Record(), fired, "test timer");

        timer.Change(TimeSpan.FromMinutes(10), Timeout.InfiniteTimeSpan);
        await Task.Delay(20);
        timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);

        await fired.First.WaitAsync(s_wait);
    }

    [Fact]
    public async Task Change_FromTheCallback_ArmsItAgain()
    {
        // A sweep re-arms the timer from its own callback for the items still held.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var count = 0;
        DedicatedThreadTimer? timer = null;
        timer = new DedicatedThreadTimer(_ =>
        {
            if (++count < 3)
            {
                timer!.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            }
            else
            {
                done.SetResult();
            }
        }, null, "test timer");

        using (timer)
        {
            timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            await done.Task.WaitAsync(s_wait);
        }

        Assert.Equal(3, count);
    }

    [Fact]
    public async Task Dispose_EndsTheThread_AndChangeNoLongerArms()
    {
        var fired = new Firings();
        var timer = new DedicatedThreadTimer(static state => ((Firings)state!).Record(), fired, "test timer");
        timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        var thread = await fired.First.WaitAsync(s_wait);

        timer.Dispose();

        Assert.True(thread.Join(s_wait), "the timer's thread still runs after disposal");
        Assert.False(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        Assert.Equal(1, fired.Count);
    }

    [Fact]
    public void Change_WithAPeriod_Throws()
    {
        using var timer = new DedicatedThreadTimer(static _ => { }, null, "test timer");

        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Change(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public async Task DeadlineSweeper_OnTheSystemClock_SweepsOnADedicatedThread()
    {
        // The runtime's timer queue fires up to a coarse tick late; the sweeper's bounds are a few milliseconds.
        var visited = new TaskCompletionSource<Thread>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sweeper = new DeadlineSweeper<object>(TimeProvider.System, TimeSpan.FromMilliseconds(1), (_, _) =>
        {
            visited.TrySetResult(Thread.CurrentThread);
            return 0;
        }, "test sweeper");

        sweeper.Watch(new object(), TimeProvider.System.GetTimestamp());
        var thread = await visited.Task.WaitAsync(s_wait);

        Assert.Equal("test sweeper", thread.Name);
        Assert.False(thread.IsThreadPoolThread);
    }

    private sealed class Firings
    {
        private readonly TaskCompletionSource<Thread> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        /// <summary>The thread of the first firing.</summary>
        public Task<Thread> First => _first.Task;

        public void Record()
        {
            Interlocked.Increment(ref _count);
            _first.TrySetResult(Thread.CurrentThread);
        }
    }
}
