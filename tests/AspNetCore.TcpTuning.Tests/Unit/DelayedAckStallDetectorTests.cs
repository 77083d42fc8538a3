using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Platform;
using Microsoft.Extensions.Time.Testing;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class DelayedAckStallDetectorTests
{
    private static readonly TimeSpan s_linux = TimeSpan.FromMilliseconds(40);

    [Theory]
    // gap ms, ACK delay ms, round trip ms, a stall?
    [InlineData(40.3, 40, 0.05, true)] // loopback: the timer's 40 ms
    [InlineData(36.5, 40, 0.05, true)] // the timer fired early in its tick
    [InlineData(44.0, 40, 0.05, true)] // a tick late (HZ=250), the usual case
    [InlineData(46.9, 40, 0.05, true)] // and the reads' scheduling
    [InlineData(52.5, 40, 0.05, true)] // a loaded server's reads, milliseconds late
    [InlineData(53.5, 40, 0.05, false)]
    [InlineData(80.0, 40, 0.05, false)] // the client's own 80 ms of think time
    [InlineData(30.0, 40, 0.05, false)]
    [InlineData(0.2, 40, 0.05, false)] // quick-ACKed: the rest follows at once
    [InlineData(141.0, 40, 100, true)] // a 100 ms path: Nagle's round trip, then the delay
    [InlineData(101.0, 40, 100, false)] // the same path quick-ACKed: only the round trip
    [InlineData(203.0, 200, 0, true)] // Windows' 200 ms timer
    [InlineData(232.0, 200, 0, true)]
    [InlineData(234.0, 200, 0, false)]
    public void Matches_TheDelayOverTheRoundTrip(double gap, double ackDelay, double roundTrip, bool stall)
        => Assert.Equal(stall, DelayedAckStallDetector.Matches(TimeSpan.FromMilliseconds(gap), TimeSpan.FromMilliseconds(ackDelay), TimeSpan.FromMilliseconds(roundTrip)));

    [Fact]
    public void RestArrivingOneAckDelayAfterAWaitMidMessage_IsAStall()
    {
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);

        Assert.Null(detector.OnArrived());
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(41));

        Assert.Equal(TimeSpan.FromMilliseconds(41), detector.OnArrived());
    }

    [Fact]
    public void TheWait_CountsFromItsBeginning()
    {
        // The earlier bytes took 3 ms to parse before the reader waited: the wait is 41 ms, not 44.
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        detector.OnArrived();
        clock.Advance(TimeSpan.FromMilliseconds(3));
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(41));

        Assert.Equal(TimeSpan.FromMilliseconds(41), detector.OnArrived());
    }

    [Fact]
    public void AWaitRenewedWithoutBytes_CountsFromTheFirst()
    {
        // A read that returned nothing (cancelled) and the reader waits again: the peer has waited since the first.
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        detector.OnArrived();
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(20));
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(21));

        Assert.Equal(TimeSpan.FromMilliseconds(41), detector.OnArrived());
    }

    [Fact]
    public void ReadsWithoutAWaitMidMessage_DoNotReadTheClock()
    {
        var clock = new CountingTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        for (var i = 0; i < 100; i++)
        {
            detector.OnArrived();
        }

        Assert.Equal(0, clock.Reads);
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(41));
        Assert.NotNull(detector.OnArrived());
        Assert.Equal(2, clock.Reads);
    }

    [Fact]
    public void BytesArrivingWithoutAWaitMidMessage_AreNotAStall()
    {
        // Between two requests the server wrote a response: the next request after 41 ms of think time is no stall.
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        detector.OnArrived();
        clock.Advance(TimeSpan.FromMilliseconds(41));

        Assert.Null(detector.OnArrived());
    }

    [Fact]
    public void AWaitBeforeAnyBytes_IsNotAStall()
    {
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(41));

        Assert.Null(detector.OnArrived());
    }

    [Fact]
    public void AWait_CountsOnce()
    {
        var clock = new FakeTimeProvider();
        var detector = new DelayedAckStallDetector(clock);
        detector.OnArrived();
        detector.OnWaitingMidMessage(s_linux, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMilliseconds(41));
        Assert.NotNull(detector.OnArrived());
        clock.Advance(TimeSpan.FromMilliseconds(41));

        Assert.Null(detector.OnArrived());
    }

    [Theory]
    // tcpi_ato ms, smoothed RTT ms, the timer Linux arms ms (tcp_send_delayed_ack)
    [InlineData(40, 0.05, 40)]
    [InlineData(200, 0.05, 40)] // capped at the RTT, floored at TCP_DELACK_MIN
    [InlineData(200, 100, 100)]
    [InlineData(80, 100, 80)]
    public void LinuxTimer_IsTheTimeoutCappedAtTheRoundTrip(double ato, double roundTrip, double timer)
        => Assert.Equal(TimeSpan.FromMilliseconds(timer), AckDelayEstimate.LinuxTimer(TimeSpan.FromMilliseconds(ato), TimeSpan.FromMilliseconds(roundTrip)));

    [Fact]
    public void StallWarnings_TheFirstAtOnceThenAtMostOneAMinuteWithTheirCountAndMeanDelay()
    {
        var clock = new FakeTimeProvider();
        var window = new StallWarningWindow(clock.TimestampFrequency);

        Assert.Equal(new StallWarning(1, TimeSpan.FromMilliseconds(40)), window.Record(clock.GetTimestamp(), TimeSpan.FromMilliseconds(40)));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(window.Record(clock.GetTimestamp(), TimeSpan.FromMilliseconds(42)));
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(window.Record(clock.GetTimestamp(), TimeSpan.FromMilliseconds(44)));
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(new StallWarning(3, TimeSpan.FromMilliseconds(42)), window.Record(clock.GetTimestamp(), TimeSpan.FromMilliseconds(40)));
    }

    private sealed class CountingTimeProvider : FakeTimeProvider
    {
        public int Reads { get; private set; }

        public override long GetTimestamp()
        {
            Reads++;
            return base.GetTimestamp();
        }
    }
}
