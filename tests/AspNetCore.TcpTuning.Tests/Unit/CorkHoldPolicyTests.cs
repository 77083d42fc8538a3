using AspNetCore.TcpTuning.Connection;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>The corking send side's decisions, table by table, without sockets.</summary>
public sealed class CorkHoldPolicyTests
{
    private const int Mss = 1448;

    [Theory]
    // pushed, in message, sent, message end, available: must everything leave?
    [InlineData(true, true, 0, -1, 100, true)] // pushed: nothing of the message is held
    [InlineData(false, true, 0, -1, 100, false)] // inside a message, no end yet: hold
    [InlineData(false, true, 1000, 1500, 600, true)] // the end is among the available bytes
    [InlineData(false, true, 1000, 1500, 500, true)] // the end is the last available byte
    [InlineData(false, true, 1000, 1700, 600, false)] // the end is beyond them (its flush still coming): hold
    [InlineData(false, false, 1000, 1000, 50, true)] // no message open, the last end behind: nothing is held
    [InlineData(false, true, 1000, 1000, 50, false)] // a new message opened after the last end: hold
    public void MustSendAll(bool pushed, bool inMessage, long sent, long messageEnd, long available, bool expected)
        => Assert.Equal(expected, CorkHoldPolicy.MustSendAll(pushed, inMessage, sent, messageEnd, available));

    [Theory]
    [InlineData(Mss, 8, long.MaxValue, 8 * Mss)] // a few segments
    [InlineData(Mss, 8, 4096, 4096)] // at most the hold limit (half of Kestrel's write buffer)
    public void SendThreshold(int segmentSize, int minimumSegments, long holdLimit, long expected)
        => Assert.Equal(expected, CorkHoldPolicy.SendThreshold(segmentSize, minimumSegments, holdLimit));

    [Theory]
    [InlineData(100, Mss, 8 * Mss, 0)] // below the threshold: hold all
    [InlineData(8 * Mss - 1, Mss, 8 * Mss, 0)]
    [InlineData(8 * Mss, Mss, 8 * Mss, 8 * Mss)] // whole segments exactly: all leave
    [InlineData(8 * Mss + 100, Mss, 8 * Mss, 8 * Mss)] // the partial rest stays
    [InlineData(3000, 65483, 2048, 3000)] // loopback's 64 KiB segment above the hold limit: all leave
    public void SendNow(long available, int segmentSize, long threshold, long expected)
        => Assert.Equal(expected, CorkHoldPolicy.SendNow(available, segmentSize, threshold));

    [Theory]
    // holding, in message, release pending, pushed, sent, written, message end, segment size: only hold again?
    [InlineData(true, true, false, false, 0, 500, -1, Mss, true)]
    [InlineData(false, true, false, false, 0, 500, -1, Mss, false)] // not holding: a wake has new bytes to look at
    [InlineData(true, false, false, false, 0, 500, -1, Mss, false)] // no message open
    [InlineData(true, true, true, false, 0, 500, -1, Mss, false)] // a release is pending
    [InlineData(true, true, false, true, 0, 500, -1, Mss, false)] // pushed
    [InlineData(true, true, false, false, 0, 500, 400, Mss, false)] // an end is pending
    [InlineData(true, true, false, false, 0, 8 * Mss, -1, Mss, false)] // enough for whole segments
    [InlineData(true, true, false, false, 0, 500, -1, 0, false)] // segment size unknown
    public void WakeWouldOnlyHold(bool holding, bool inMessage, bool releasePending, bool pushed, long sent, long written, long messageEnd, int segmentSize, bool expected)
        => Assert.Equal(expected, CorkHoldPolicy.WakeWouldOnlyHold(holding, inMessage, releasePending, pushed, sent, written, messageEnd, segmentSize, segmentSize * 8L));
}
