using AspNetCore.TcpTuning.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class DeadlineSweeperTests
{
    private static readonly TimeSpan s_minimumInterval = TimeSpan.FromMilliseconds(1);

    private readonly FakeTimeProvider _clock = new();
    private readonly long _start;

    public DeadlineSweeperTests() => _start = _clock.GetTimestamp();

    [Fact]
    public void Watch_VisitsTheItemOnlyOnceItsDeadlinePasses()
    {
        var item = new Item(_ => 0);
        using var sweeper = Sweeper();

        sweeper.Watch(item, At(TimeSpan.FromMilliseconds(5)));
        Advance(TimeSpan.FromMilliseconds(4.9));
        Assert.Empty(item.Visits);

        Advance(TimeSpan.FromMilliseconds(0.1));
        Assert.Equal([At(TimeSpan.FromMilliseconds(5))], item.Visits);
    }

    [Fact]
    public void Visit_ReturningZero_LetsTheItemGoAndStopsTheTimer()
    {
        var item = new Item(_ => 0);
        using var sweeper = Sweeper();

        sweeper.Watch(item, At(TimeSpan.FromMilliseconds(2)));
        Advance(TimeSpan.FromSeconds(1));

        Assert.Single(item.Visits);
    }

    [Fact]
    public void Visit_ReturningALaterDeadline_IsVisitedAgainThen()
    {
        var item = new Item(now => now + Ticks(TimeSpan.FromMilliseconds(3)));
        using var sweeper = Sweeper();

        sweeper.Watch(item, At(TimeSpan.FromMilliseconds(2)));
        Advance(TimeSpan.FromMilliseconds(8));

        Assert.Equal([At(TimeSpan.FromMilliseconds(2)), At(TimeSpan.FromMilliseconds(5)), At(TimeSpan.FromMilliseconds(8))], item.Visits);
    }

    [Fact]
    public void Watch_WithAnEarlierDeadline_ArmsTheTimerSooner()
    {
        var late = new Item(_ => 0);
        var early = new Item(_ => 0);
        using var sweeper = Sweeper();

        sweeper.Watch(late, At(TimeSpan.FromMilliseconds(10)));
        sweeper.Watch(early, At(TimeSpan.FromMilliseconds(2)));
        Advance(TimeSpan.FromMilliseconds(2));

        Assert.Equal([At(TimeSpan.FromMilliseconds(2))], early.Visits);
    }

    [Fact]
    public void Visit_AskingToBeLookedAtAgainAtOnce_WaitsTheMinimumInterval()
    {
        var item = new Item(now => now);
        using var sweeper = Sweeper();

        sweeper.Watch(item, At(TimeSpan.Zero));
        Advance(TimeSpan.FromMilliseconds(3));

        Assert.Equal([At(TimeSpan.Zero), At(TimeSpan.FromMilliseconds(1)), At(TimeSpan.FromMilliseconds(2)), At(TimeSpan.FromMilliseconds(3))], item.Visits);
    }

    [Fact]
    public void BusyServer_ItemsDoneBeforeTheirDeadlines_SweepsAboutOncePerDeadlineNotEveryInterval()
    {
        // A response every 0.2 ms, each holding bytes for 0.5 ms, with a 5 ms deadline: the held-response case under
        // load. A sweeper ticking every minimum interval would sweep 100 times in these 100 ms.
        var sweeps = new HashSet<long>();
        var delay = TimeSpan.FromMilliseconds(5);
        using var sweeper = new DeadlineSweeper<Item>(_clock, s_minimumInterval, (item, now) =>
        {
            sweeps.Add(now);
            return item.Visit(now);
        }, "test");

        for (var i = 0; i < 500; i++)
        {
            var watchedAt = _clock.GetTimestamp();
            var item = new Item(now => now - watchedAt >= Ticks(TimeSpan.FromMilliseconds(0.5)) ? 0 : watchedAt + Ticks(delay));
            sweeper.Watch(item, watchedAt + Ticks(delay));
            Advance(TimeSpan.FromMilliseconds(0.2));
        }

        Assert.InRange(sweeps.Count, 100 / 5 - 2, 100 / 5 + 2);
    }

    [Fact]
    public void Timer_IsArmedInWholeMilliseconds_NeverZeroForAFutureDeadline()
    {
        // The system timer truncates to milliseconds: 0.9 ms would fire at once, and re-armed from that sweep, again.
        var clock = new RecordingTimeProvider();
        var start = clock.GetTimestamp();
        var item = new Item(now => now);
        using var sweeper = new DeadlineSweeper<Item>(clock, s_minimumInterval, static (item, now) => item.Visit(now), "test");

        sweeper.Watch(item, start + DeadlineSweeper<Item>.ToTimestampTicks(clock, TimeSpan.FromMilliseconds(0.3)));
        for (var i = 0; i < 30; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(0.1));
        }

        Assert.True(item.Visits.Count >= 2);
        Assert.All(clock.DueTimes.Where(d => d != Timeout.InfiniteTimeSpan), due =>
        {
            Assert.True(due > TimeSpan.Zero, $"armed for {due}");
            Assert.Equal(0, due.Ticks % TimeSpan.TicksPerMillisecond);
        });
    }

    // FakeTimeProvider moves the clock before it fires what is due: small steps, so that a timer sees its own time.
    private void Advance(TimeSpan span)
    {
        var step = TimeSpan.FromMilliseconds(0.1);
        for (var left = span; left > TimeSpan.Zero; left -= step)
        {
            _clock.Advance(left < step ? left : step);
        }
    }

    private DeadlineSweeper<Item> Sweeper() => new(_clock, s_minimumInterval, static (item, now) => item.Visit(now), "test");

    private long Ticks(TimeSpan span) => DeadlineSweeper<Item>.ToTimestampTicks(_clock, span);

    private long At(TimeSpan fromStart) => _start + Ticks(fromStart);

    private sealed class Item(Func<long, long> next)
    {
        public List<long> Visits { get; } = [];

        public long Visit(long now)
        {
            Visits.Add(now);
            return next(now);
        }
    }

    private sealed class RecordingTimeProvider : FakeTimeProvider
    {
        public List<TimeSpan> DueTimes { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => new RecordingTimer(base.CreateTimer(callback, state, dueTime, period), DueTimes);
    }

    private sealed class RecordingTimer(ITimer inner, List<TimeSpan> dueTimes) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            dueTimes.Add(dueTime);
            return inner.Change(dueTime, period);
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
