using System.Text;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Tests.Infrastructure;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class HoldBufferTests
{
    [Fact]
    public void EndWrite_SplitsEndedPartFromTail()
    {
        var buffer = new HoldBuffer();
        buffer.Append("one"u8);
        Assert.Equal(3, buffer.EndWrite());
        Write(buffer, "two");

        Assert.Equal("one", Text(buffer.Ended));
        Assert.Equal("two", Text(buffer.Tail));
        Assert.Equal("onetwo", Text(buffer.All));
    }

    [Fact]
    public void ConsumeEnded_KeepsTheTailAndTheOutstandingMemoryInPlace()
    {
        var buffer = new HoldBuffer();
        buffer.Append("ended"u8);
        buffer.EndWrite();
        var memory = buffer.GetMemory(4);

        buffer.ConsumeEnded(memoryOutstanding: true);
        "tail"u8.CopyTo(memory.Span);
        buffer.Advance(4);

        Assert.Equal("", Text(buffer.Ended));
        Assert.Equal("tail", Text(buffer.Tail));
    }

    [Fact]
    public void GetMemory_Grows_KeepsWhatIsHeld()
    {
        var buffer = new HoldBuffer();
        buffer.Append("held"u8);
        buffer.EndWrite();
        var large = new string('x', 10_000);
        Write(buffer, large);

        Assert.Equal("held", Text(buffer.Ended));
        Assert.Equal(large, Text(buffer.Tail));
    }

    [Theory]
    [InlineData(new[] { 10 }, new[] { 4096 })]
    [InlineData(new[] { 10, 10 }, new[] { 4096, 4086 })]
    [InlineData(new[] { 3000, 2000 }, new[] { 4096, 4086 })]
    [InlineData(new[] { 10, 4090 }, new[] { 4096, 4096 })]
    [InlineData(new[] { 10, 5000 }, new[] { 4096, 8192 })]
    public void GetMemory_HandsOutRunsShapedLikeKestrelsPipe(int[] hintsAdvancedIn10s, int[] lengths)
    {
        // An app that fills what it is given advances in the same sizes as it would into Kestrel's 4 KiB blocks.
        var buffer = new HoldBuffer();
        for (var i = 0; i < hintsAdvancedIn10s.Length; i++)
        {
            Assert.Equal(lengths[i], buffer.GetMemory(hintsAdvancedIn10s[i]).Length);
            buffer.Advance(10);
        }
    }

    [Fact]
    public void Advance_PastTheMemoryHandedOut_Throws()
    {
        var buffer = new HoldBuffer();
        var memory = buffer.GetMemory(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(memory.Length + 1));
    }

    [Fact]
    public void ConsumeAll_WithATail_LeavesNothingToHandOverAgain()
    {
        // Everything held handed over, a tail included: a tail read afterwards (a failure's commit) must be empty, not the
        // consumed tail again (a response once got its last unflushed write twice).
        var buffer = new HoldBuffer();
        buffer.Append("ended"u8);
        buffer.EndWrite();
        buffer.Append("tail"u8);

        buffer.ConsumeAll(memoryOutstanding: false);

        Assert.Equal(0, buffer.Length);
        Assert.Equal("", Text(buffer.Tail));
        Assert.Equal("", Text(buffer.Ended));
        buffer.Append("next"u8);
        Assert.Equal("next", Text(buffer.All));
        Assert.Equal("next", Text(buffer.Tail));
    }

    [Fact]
    public void ConsumeAll_NothingOutstanding_StartsAgainAtTheFront()
    {
        var buffer = new HoldBuffer();
        buffer.Append("abc"u8);
        buffer.EndWrite();
        buffer.ConsumeAll(memoryOutstanding: false);
        buffer.Append("d"u8);

        Assert.Equal(1, buffer.Length);
        Assert.Equal("d", Text(buffer.All));
    }

    [Fact]
    public void Blocks_ComeFromThePool_AndGoBackOnceHandedOver()
    {
        var pool = new CountingPool();
        var buffer = new HoldBuffer();
        buffer.UsePool(pool);
        var text = new string('y', 10_000);
        buffer.Append(Encoding.ASCII.GetBytes(text));
        buffer.EndWrite();

        Assert.Equal(3, pool.Rented);
        Assert.Equal(text, Text(buffer.Ended));
        var pieces = 0;
        foreach (var piece in buffer.Ended)
        {
            pieces++;
        }

        Assert.Equal(3, pieces);

        // The block still being written stays for the next write, as in Kestrel's pipe; the full ones go back.
        buffer.ConsumeEnded(memoryOutstanding: false);
        Assert.Equal(1, pool.Outstanding);
        buffer.Append("z"u8);
        Assert.Equal(3, pool.Rented);
        Assert.Equal("z", Text(buffer.All));

        buffer.Clear();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void LargeRequest_BeyondThePoolsBlocks_IsRentedFromTheArrayPool()
    {
        var pool = new CountingPool();
        var buffer = new HoldBuffer();
        buffer.UsePool(pool);

        Assert.Equal(8192, buffer.GetMemory(5000).Length);
        buffer.Advance(5000);
        Assert.Equal(0, pool.Rented);
        buffer.Clear();
    }

    [Fact]
    public void KeepingASpare_TheNextResponseWritesIntoTheKeptBlock_AndReleaseReturnsIt()
    {
        var pool = new CountingPool();
        var buffer = new HoldBuffer(new SpareBlockBudget(1)) { KeepsSpare = true };
        buffer.UsePool(pool);
        Write(buffer, "first");
        buffer.Clear();

        Assert.Equal(1, pool.Outstanding);
        Write(buffer, "next");
        Assert.Equal("next", Text(buffer.All));
        Assert.Equal(1, pool.Rented);

        buffer.Clear();
        buffer.ReleaseSpare();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void NotKeepingASpare_ClearReturnsEveryBlock()
    {
        var pool = new CountingPool();
        var buffer = new HoldBuffer(new SpareBlockBudget(1));
        buffer.UsePool(pool);
        Write(buffer, "first");
        buffer.Clear();
        Write(buffer, "next");
        buffer.Clear();

        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(2, pool.Rented);
    }

    [Fact]
    public void SpareBudgetSpent_TheOtherBuffersReturnTheirBlocks_UntilASpareIsReleased()
    {
        var pool = new CountingPool();
        var budget = new SpareBlockBudget(1);
        var first = new HoldBuffer(budget) { KeepsSpare = true };
        var second = new HoldBuffer(budget) { KeepsSpare = true };
        first.UsePool(pool);
        second.UsePool(pool);
        Write(first, "a");
        first.Clear();
        Write(second, "b");
        second.Clear();
        Assert.Equal(1, pool.Outstanding);

        first.ReleaseSpare();
        Write(second, "c");
        second.Clear();
        Assert.Equal(1, pool.Outstanding);
        second.ReleaseSpare();
        Assert.Equal(0, pool.Outstanding);
    }

    public static TheoryData<string> BlockShapes => ["array", "slice", "arrayless"];

    // Appends, spans, hand-overs and a response's end in a seeded order, across block boundaries: every byte in order.
    [Theory]
    [MemberData(nameof(BlockShapes))]
    public void MixedWritesAndHandOvers_AcrossBlocks_KeepEveryByteInOrder(string shape)
    {
        var pool = new CountingPool(shape switch
        {
            "slice" => CountingPool.SliceOfALargerArray,
            "arrayless" => CountingPool.WithoutAnArray,
            _ => null,
        });
        var buffer = new HoldBuffer(new SpareBlockBudget(1)) { KeepsSpare = true };
        buffer.UsePool(pool);
        var random = new Random(7);
        var ended = new StringBuilder();
        var tail = new StringBuilder();
        var next = 0;
        for (var step = 0; step < 2_000; step++)
        {
            var text = new string((char)('a' + (next++ % 26)), random.Next(1, 700));
            switch (random.Next(10))
            {
                case < 4:
                    buffer.Append(Encoding.ASCII.GetBytes(text));
                    tail.Append(text);
                    break;
                case < 7:
                    Write(buffer, text);
                    tail.Append(text);
                    break;
                case 7:
                    buffer.EndWrite();
                    ended.Append(tail);
                    tail.Clear();
                    break;
                case 8:
                    buffer.ConsumeEnded(memoryOutstanding: false);
                    ended.Clear();
                    break;
                default:
                    buffer.Clear();
                    ended.Clear();
                    tail.Clear();
                    break;
            }

            Assert.Equal(ended.ToString(), Text(buffer.Ended));
            Assert.Equal(tail.ToString(), Text(buffer.Tail));
            Assert.Equal(ended.Length + tail.Length, buffer.Length);
        }

        buffer.Clear();
        buffer.ReleaseSpare();
        Assert.Equal(0, pool.Outstanding);
    }

    private static void Write(HoldBuffer buffer, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        bytes.CopyTo(buffer.GetMemory(bytes.Length).Span);
        buffer.Advance(bytes.Length);
    }

    private static string Text(HoldBuffer.Pieces pieces)
    {
        var text = new StringBuilder();
        foreach (var piece in pieces)
        {
            text.Append(Encoding.ASCII.GetString(piece.Span));
        }

        return text.ToString();
    }
}
