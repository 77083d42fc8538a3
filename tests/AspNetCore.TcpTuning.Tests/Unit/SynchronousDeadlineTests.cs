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
}
