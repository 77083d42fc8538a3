using AspNetCore.TcpTuning.Http;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>The pure decision of the message-boundary policy, event by event, with timestamps in place of a clock.</summary>
public sealed class HoldPolicyTests
{
    private const int Threshold = 1000;
    private const long Delay = 5000;

    public static TheoryData<string, long[], long[], bool[], string[]> WriteSequences => new()
    {
        // name, bytes per ended write, time of each, whether it completes the body, expected reason after each
        { "small writes are held", [100, 100, 100], [0, 10, 20], [false, false, false], ["None", "None", "None"] },
        { "threshold reached", [600, 400], [0, 1], [false, false], ["None", "Threshold"] },
        { "delay passed, checked at a write", [10, 10], [0, Delay], [false, false], ["None", "Delay"] },
        { "delay not yet passed", [10, 10], [0, Delay - 1], [false, false], ["None", "None"] },
        { "body complete", [10, 10], [0, 1], [false, true], ["None", "End"] },
        { "empty flush with nothing held", [0], [0], [false], ["None"] },
        { "empty flush completing the body", [0], [0], [true], ["End"] },
    };

    [Theory]
    [MemberData(nameof(WriteSequences))]
    public void OnWriteEnded_Sequence_ReasonsAsExpected(string name, long[] bytes, long[] times, bool[] completes, string[] expected)
    {
        var policy = NewPolicy();
        var actual = bytes.Select((b, i) => policy.OnWriteEnded(b, times[i], completes[i]).ToString()).ToArray();
        Assert.True(expected.SequenceEqual(actual), $"{name}: expected {string.Join(",", expected)}, got {string.Join(",", actual)}");
    }

    [Fact]
    public void OnWriteEnded_TimerWatches_DelayNotCheckedAtWrites()
    {
        var policy = NewPolicy();
        policy.CheckDelayAtWrites = false;

        Assert.Equal(FlushReason.None, policy.OnWriteEnded(10, 0, completesBody: false));
        Assert.Equal(FlushReason.None, policy.OnWriteEnded(10, Delay * 10, completesBody: false));
        Assert.False(policy.NeedsTime(completesBody: false));
    }

    [Theory]
    [InlineData(false, 0, true)]    // the first held byte starts the delay
    [InlineData(false, 10, true)]   // the handler runs synchronously: each write checks the delay
    [InlineData(true, 0, false)]    // the write that completes the body leaves at once
    [InlineData(true, 10, false)]
    public void NeedsTime_OnlyWhereTheDelayStartsOrIsChecked(bool completesBody, long held, bool expected)
    {
        var policy = NewPolicy();
        policy.OnWriteEnded(held, 0, completesBody: false);

        Assert.Equal(expected, policy.NeedsTime(completesBody));
    }

    [Fact]
    public void OnDeadline_FlushesOnlyOnceTheOldestHeldByteWaitedTheDelay()
    {
        var policy = NewPolicy();
        policy.OnWriteEnded(10, 100, completesBody: false);
        policy.OnWriteEnded(10, 3000, completesBody: false);

        Assert.Equal(100 + Delay, policy.Deadline);
        Assert.Equal(FlushReason.None, policy.OnDeadline(100 + Delay - 1));
        Assert.Equal(FlushReason.Delay, policy.OnDeadline(100 + Delay));
    }

    [Fact]
    public void OnFlushed_NextWriteStartsANewDelay()
    {
        var policy = NewPolicy();
        policy.OnWriteEnded(10, 0, completesBody: false);
        policy.OnFlushed();
        policy.OnWriteEnded(10, 4000, completesBody: false);

        Assert.Equal(4000 + Delay, policy.Deadline);
        Assert.Equal(10, policy.Held);
    }

    [Theory]
    [InlineData(true, 0, "Explicit")]
    [InlineData(false, 0, "None")]
    [InlineData(false, Threshold, "Threshold")]
    public void OnExplicitFlush_HonouredUnlessDisabled(bool honor, long bytes, string expected)
    {
        var policy = new HoldPolicy();
        policy.Reset(Threshold, Delay, honor);
        policy.OnWriteEnded(10, 0, completesBody: false);

        Assert.Equal(expected, policy.OnExplicitFlush(bytes, 1, completesBody: false).ToString());
    }

    [Fact]
    public void OnRequestBodyRead_FlushesOnlyWhatIsHeld()
    {
        var policy = NewPolicy();
        Assert.Equal(FlushReason.None, policy.OnRequestBodyRead());
        policy.OnWriteEnded(1, 0, completesBody: false);
        Assert.Equal(FlushReason.BeforeRead, policy.OnRequestBodyRead());
    }

    [Fact]
    public void OnError_FlushesOnlyWhatIsHeld()
    {
        var policy = NewPolicy();
        Assert.Equal(FlushReason.None, policy.OnError());
        policy.OnWriteEnded(1, 0, completesBody: false);
        Assert.Equal(FlushReason.Error, policy.OnError());
    }

    [Theory]
    [InlineData(Threshold - 1, false)]
    [InlineData(Threshold, true)]
    public void IsLargeWrite_AtTheThreshold(long bytes, bool expected) => Assert.Equal(expected, NewPolicy().IsLargeWrite(bytes));

    // TryAddHeld is OnWriteEnded's answer "None, the bytes counted, no clock needed", or nothing at all.
    [Theory]
    [InlineData(0, false, 100, false)]               // nothing held yet: the delay starts here, which needs the clock
    [InlineData(100, true, 100, false)]              // each write checks the delay
    [InlineData(100, false, 100, true)]
    [InlineData(100, false, 0, true)]
    [InlineData(100, false, Threshold - 101, true)]  // one byte short of the threshold
    [InlineData(100, false, Threshold - 100, false)] // reaches it
    [InlineData(100, false, Threshold, false)]       // a large write
    public void TryAddHeld_OnlyWhereOnWriteEndedWouldOnlyCount(long held, bool checkDelayAtWrites, long bytes, bool expected)
    {
        var policy = NewPolicy();
        var general = NewPolicy();
        foreach (var p in new[] { policy, general })
        {
            p.OnWriteEnded(held, 0, completesBody: false);
            p.CheckDelayAtWrites = checkDelayAtWrites;
        }

        Assert.Equal(expected, policy.TryAddHeld(bytes));
        if (expected)
        {
            Assert.False(general.NeedsTime(completesBody: false));
            Assert.Equal(FlushReason.None, general.OnWriteEnded(bytes, 0, completesBody: false));
            Assert.Equal(general.Held, policy.Held);
            Assert.Equal(general.Deadline, policy.Deadline);
        }
        else
        {
            Assert.Equal(held, policy.Held);
        }
    }

    private static HoldPolicy NewPolicy()
    {
        var policy = new HoldPolicy();
        policy.Reset(Threshold, Delay, honorExplicitFlush: true);
        return policy;
    }
}
