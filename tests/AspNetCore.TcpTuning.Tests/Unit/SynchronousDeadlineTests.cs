using AspNetCore.TcpTuning.Http;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class SynchronousDeadlineTests
{
    [Fact]
    public void Armed_SweptBeforeTheDeadline_LooksAgainThen_WithoutRaisingTheFlag()
    {
        var flag = new SynchronousDeadline();
        Assert.True(flag.Arm(100));

        Assert.Equal(100, flag.OnSweep(99));
        Assert.False(flag.Passed);
    }

    [Fact]
    public void Armed_SweptAtTheDeadline_RaisesTheFlag_AndIsLetGo()
    {
        var flag = new SynchronousDeadline();
        flag.Arm(100);

        Assert.Equal(0, flag.OnSweep(100));
        Assert.True(flag.Passed);
        // Let go: the next arm asks to be watched again, and lowers the flag.
        Assert.True(flag.Arm(200));
        Assert.False(flag.Passed);
    }

    [Fact]
    public void ArmedAgainWhileWatched_TheNewDeadlineCounts_AndNoSecondWatch()
    {
        var flag = new SynchronousDeadline();
        flag.Arm(100);

        Assert.False(flag.Arm(300));
        Assert.Equal(300, flag.OnSweep(150));
        Assert.False(flag.Passed);
    }

    [Fact]
    public void Disarmed_SweptLater_IsLetGo_WithoutRaisingTheFlag()
    {
        var flag = new SynchronousDeadline();
        flag.Arm(100);
        flag.Disarm();

        Assert.Equal(0, flag.OnSweep(500));
        Assert.False(flag.Passed);
        Assert.True(flag.Arm(600));
    }

    [Fact]
    public void WhileTheOwnerCannotTakeOver_AsksAgainUntilItCan()
    {
        var answers = new Queue<long>([7, 8, 0]);
        var asked = new List<(long Now, long Token)>();
        var deadline = new SynchronousDeadline((now, token) =>
        {
            asked.Add((now, token));
            return answers.Dequeue();
        });

        Assert.True(deadline.Arm(5, token: 42));
        Assert.Equal(5, deadline.OnSweep(4));
        Assert.Equal(7, deadline.OnSweep(5));
        Assert.True(deadline.Passed);
        Assert.Equal(8, deadline.OnSweep(7));
        Assert.Equal(0, deadline.OnSweep(8));

        Assert.Equal([(5, 42), (7, 42), (8, 42)], asked);
        Assert.True(deadline.Arm(20, token: 43));
    }

    [Fact]
    public void ArmedAnewOrDisarmedWhileAsking_FollowsTheHandler()
    {
        SynchronousDeadline deadline = null!;
        var disarm = false;
        deadline = new SynchronousDeadline((now, token) =>
        {
            if (disarm)
            {
                deadline.Disarm();
            }
            else
            {
                Assert.False(deadline.Arm(30, token + 1));
            }

            return now + 1;
        });

        deadline.Arm(5, token: 1);
        Assert.Equal(30, deadline.OnSweep(5)); // the handler wrote again: its new deadline is watched
        disarm = true;
        Assert.Equal(0, deadline.OnSweep(30)); // the phase ended: nothing to ask again
        Assert.True(deadline.Arm(40));
    }
}
