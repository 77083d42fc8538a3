using System.IO.Pipelines;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>
/// The writer's mechanics on a <see cref="DefaultHttpContext"/> with a recording server body (as aspnetcore tests its
/// ResponseCompression body): what reaches the server, in what order, and never two flushes at once.
/// </summary>
public sealed class MessageBoundaryPipeWriterTests
{
    private static readonly ResponseFlushPolicy s_policy = new(ResponseFlushMode.MessageBoundary, FlushThreshold: 65536, MaxFlushDelay: TimeSpan.FromMilliseconds(5), HonorExplicitFlush: true);

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task TimerFlushInFlight_TheNextFlushWaitsForIt()
    {
        // An app's flushes reach Kestrel one at a time (each write awaited); a flush the timer started must not be
        // joined by the app's next one while it is pending (HTTP/2 streams stalled for seconds when it was).
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithTimerFlushInFlightAsync(sweeper);
        Assert.Equal(1, server.Writes);

        var write = writer.WriteAsync(new byte[70_000]).AsTask();
        Assert.False(write.IsCompleted);
        Assert.Equal(1, server.Writes);

        server.BlockFlushes = false;
        server.CompleteFlush();
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Writes);
        Assert.Equal(0, server.ConcurrentFlushes);
        Assert.Equal(70_100, server.Bytes);
    }

    [Fact]
    public async Task TimerFlushInFlight_EndWaitsForIt()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithTimerFlushInFlightAsync(sweeper);

        var end = writer.EndMessageAsync(markEnd: true).AsTask();
        Assert.False(end.IsCompleted);

        server.BlockFlushes = false;
        server.CompleteFlush();
        await end.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, server.ConcurrentFlushes);
        Assert.Equal(100, server.Bytes);
    }

    [Fact]
    public async Task TimerFlushInFlight_TheAppsNextSpanComesFromTheHoldBuffer()
    {
        // Nothing is held once the timer handed its bytes over, but Kestrel's writer is that flush's until it completes:
        // a span of Kestrel's taken meanwhile broke HTTP/2 streams (the reliability suite's timeouts, when a response's
        // first writes went into Kestrel's buffer).
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithTimerFlushInFlightAsync(sweeper);

        writer.GetSpan(50);
        writer.Advance(50);
        var flush = writer.FlushAsync().AsTask();

        Assert.Equal(0, server.SpansWhileFlushPending);
        Assert.Equal(0, server.AdvancedWhileFlushPending);
        server.BlockFlushes = false;
        server.CompleteFlush();
        await flush.WaitAsync(TimeSpan.FromSeconds(10));
        await writer.EndMessageAsync(markEnd: true);
        Assert.Equal(150, server.Bytes);
        Assert.Equal(0, server.ConcurrentFlushes);
    }

    [Fact]
    public async Task HeldWrites_ReachTheServerAsOneWriteAtTheEnd()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);

        await WriteHeldAsync(writer, 64);

        await writer.EndMessageAsync(markEnd: true);

        Assert.Equal(1, server.Writes);
        Assert.Equal(6400, server.Bytes);
    }

    [Theory]
    [InlineData(13, 1)]
    [InlineData(100, 0)]
    public async Task StartedResponse_FirstSpanGoesToTheServersBuffer_FlushedOnlyWhenItCompletesTheDeclaredBody(long contentLength, int flushesAfterFirstSpan)
    {
        // Results.Text: a Content-Length, the response started, then GetSpan/Advance/FlushAsync: a span that completes
        // the body leaves unheld and uncopied; one short of it stays held until the body completes.
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithDeclaredLengthAsync(sweeper, contentLength);

        writer.GetSpan(13);
        writer.Advance(13);
        await writer.FlushAsync();
        Assert.Equal(flushesAfterFirstSpan, server.Flushes);

        if (contentLength > 13)
        {
            await writer.WriteAsync(new byte[contentLength - 13]);
        }

        await writer.EndMessageAsync(markEnd: true);

        Assert.Equal(1, server.Spans);
        Assert.Equal(1, server.Flushes);
        Assert.Equal(contentLength, server.Bytes);
    }

    [Fact]
    public async Task OneWriteResponse_EndsUnheldInOneStep()
    {
        // Results.Text in a handler that returns synchronously: the write completed the body and left, so the message,
        // the response and the synchronous phase end together (most small responses take this path).
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithDeclaredLengthAsync(sweeper, 13);
        writer.BeginSynchronousPhase();
        writer.GetSpan(13);
        writer.Advance(13);
        await writer.FlushAsync();

        Assert.True(writer.TryEndUnheld());
        Assert.Equal(1, server.Flushes);
        Assert.Equal(13, server.Bytes);
    }

    [Fact]
    public async Task HeldBytes_NotEndedUnheld_TheEndStillSendsThem()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        writer.BeginSynchronousPhase();
        await WriteHeldAsync(writer, 3);

        Assert.False(writer.TryEndUnheld());
        Assert.Equal(0, server.Writes);
        await writer.EndMessageAsync(markEnd: true);
        writer.EndSynchronousPhase();
        Assert.Equal(1, server.Writes);
        Assert.Equal(300, server.Bytes);
    }

    [Fact]
    public async Task TimerFlushInFlight_NotEndedUnheld()
    {
        // Nothing is held once the timer handed its bytes over, but its flush is still Kestrel's: the end waits for it.
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithTimerFlushInFlightAsync(sweeper);

        Assert.False(writer.TryEndUnheld());
        var end = writer.EndMessageAsync(markEnd: true).AsTask();
        Assert.False(end.IsCompleted);
        server.BlockFlushes = false;
        server.CompleteFlush();
        await end.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.ConcurrentFlushes);
    }

    [Fact]
    public async Task SynchronousHandler_ReadsTheClockOncePerHold_NotPerWrite()
    {
        // A clock read costs a system call's worth (~27 ns here): 64 of them were most of what 64 held writes cost.
        var clock = new CountingClock(_clock);
        using var sweeper = new HeldResponseSweeper(clock);
        var (writer, server) = Start(sweeper, clock);
        writer.BeginSynchronousPhase();
        var before = clock.Reads;

        await WriteHeldAsync(writer, 64);

        Assert.InRange(clock.Reads - before, 1, 2);
        await writer.EndMessageAsync(markEnd: true);
        writer.EndSynchronousPhase();
        Assert.Equal(1, server.Writes);
    }

    [Theory]
    // ms the handler blocks its thread after a write (the delay is 5 ms, worked to 3), bytes that reached the server
    [InlineData(10, 100)] // past the deadline: the timer takes the writer over and sends them, the handler still blocked
    [InlineData(1, 0)] // before it: held
    public async Task SynchronousHandler_BlockedAfterAWrite_TheTimerSendsItOnceTheDeadlinePassed(int blockedMs, int serverBytes)
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        writer.BeginSynchronousPhase();
        await writer.WriteAsync(new byte[100]);

        // The timer's sweeps run on this thread, between the handler's calls, as if it were blocked.
        AdvanceByMilliseconds(blockedMs);

        Assert.Equal(serverBytes, server.Bytes);
        Assert.Equal(serverBytes > 0 ? 1 : 0, server.Writes);
        writer.EndSynchronousPhase();
    }

    [Fact]
    public async Task SynchronousHandler_TakenOver_LaterWritesAreHeldUntilTheirOwnDeadline()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        writer.BeginSynchronousPhase();
        await writer.WriteAsync(new byte[100]);
        AdvanceByMilliseconds(10);

        Assert.Equal(1, server.Writes);
        await writer.WriteAsync(new byte[100]);
        await writer.WriteAsync(new byte[100]);
        Assert.Equal(1, server.Writes);
        AdvanceByMilliseconds(10);

        Assert.Equal(2, server.Writes);
        Assert.Equal(300, server.Bytes);
        await writer.EndMessageAsync(markEnd: true);
        writer.EndSynchronousPhase();
        Assert.Equal(300, server.Bytes);
    }

    [Fact]
    public async Task SynchronousHandler_TakenOver_TheConnectionsNextResponseKeepsItsSynchronousPhase()
    {
        // A takeover is the response's, not the connection's: the next response writes lock-free and reads the clock
        // once per hold, not per write (handed to the main timer, a busy connection lost that for good).
        var clock = new CountingClock(_clock);
        using var sweeper = new HeldResponseSweeper(clock);
        var (writer, server) = Start(sweeper, clock);
        writer.BeginSynchronousPhase();
        await writer.WriteAsync(new byte[100]);

        // Past the deadline (5 ms, worked to 3) the timer sends the write; the handler writes again, and a millisecond
        // later the response ends and the connection's next one begins (a busy connection: bytes held at every sweep).
        _clock.Advance(TimeSpan.FromMilliseconds(4));
        Assert.Equal(100, server.Bytes);
        await writer.WriteAsync(new byte[100]);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await writer.EndMessageAsync(markEnd: true);
        writer.EndSynchronousPhase();
        writer.EndWithoutFlush();
        Assert.Equal(200, server.Bytes);

        var next = Restart(writer);
        writer.BeginSynchronousPhase();
        var before = clock.Reads;
        await WriteHeldAsync(writer, 64);

        Assert.InRange(clock.Reads - before, 1, 2);
        await writer.EndMessageAsync(markEnd: true);
        writer.EndSynchronousPhase();
        Assert.Equal(1, next.Writes);
        Assert.Equal(6400, next.Bytes);
    }

    [Fact]
    public async Task AdvancePastTheDeclaredLength_TheServerThrowsForTheSameTotal_ItsMemoryUntouched()
    {
        // Kestrel checks the length before it touches its buffer. Committing the held bytes, flushing them and taking
        // Kestrel's memory for the rest while that flush was in flight hung HTTP/2 streams (the reliability suite's seed
        // 8996, a quarter of its runs): nothing of the server's may be touched here, and no flush started.
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithDeclaredLengthAsync(sweeper, 300);
        await writer.WriteAsync(new byte[100]);
        server.BlockFlushes = true;

        writer.GetSpan(250);
        var error = Assert.Throws<InvalidOperationException>(() => writer.Advance(250));

        Assert.Equal("Response Content-Length mismatch: too many bytes written (350 of 300).", error.Message);
        Assert.Equal(0, server.Spans);
        Assert.Equal(0, server.Flushes);
        Assert.Equal(0, server.Bytes);

        // The handler's failure hands the held write over, as for any other exception.
        server.BlockFlushes = false;
        await writer.FailAsync();
        Assert.Equal(100, server.Bytes);
        Assert.Equal(0, server.SpansWhileFlushPending);
    }

    [Fact]
    public async Task HeldChunkedResponse_IsCopiedToTheServerInSpansItsPoolServes()
    {
        // Kestrel adds a chunk's framing (up to 12 bytes) to a size hint and its pipe allocates a fresh array for a hint
        // over its 4 KiB block: a whole held block asked for at once made ~5 KB of garbage per chunked response.
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        writer.WatchHeldBytes();
        await WriteHeldAsync(writer, 64);

        server.SetChunked();
        await writer.EndMessageAsync(markEnd: true);

        Assert.Equal(0, server.Writes);
        Assert.Equal(6400, server.Bytes);
        Assert.InRange(server.LargestSizeHint, 1, 4096 - 12);
    }

    [Fact]
    public async Task Failure_TailReachesTheServerOnlyOnceTheEndedBytesFlushCompleted()
    {
        // Kestrel's ConcurrentPipeWriter flushes bytes advanced during a pending flush (or drops them if the connection
        // closes first), where without the policy they would wait unflushed: the tail must wait for that flush.
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        await writer.WriteAsync(new byte[100]);
        writer.GetSpan(50);
        writer.Advance(50);
        server.BlockFlushes = true;

        var fail = writer.FailAsync().AsTask();
        Assert.False(fail.IsCompleted);
        Assert.Equal(100, server.Bytes);

        server.CompleteFlush();
        await fail.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(150, server.Bytes);
        Assert.Equal(0, server.AdvancedWhileFlushPending);
        Assert.Equal(1, server.Writes);
    }

    // Chatty writes, in either phase: the write that reaches the threshold sends everything held, no earlier one does.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HeldWrites_TheWriteThatReachesTheThresholdSendsThem(bool synchronous)
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        if (synchronous)
        {
            writer.BeginSynchronousPhase();
        }
        else
        {
            writer.WatchHeldBytes();
        }

        var writes = s_policy.FlushThreshold / 100;
        await WriteHeldAsync(writer, writes);
        Assert.Equal(0, server.Writes);

        await writer.WriteAsync(new byte[100]);
        Assert.Equal(1, server.Writes);
        Assert.Equal((writes + 1) * 100, server.Bytes);
        await writer.EndMessageAsync(markEnd: true);
        if (synchronous)
        {
            writer.EndSynchronousPhase();
        }
    }

    // A declared length: the write that completes it sends the whole body at once, however many writes came before.
    [Fact]
    public async Task HeldWrites_WithADeclaredLength_TheWriteThatCompletesItSendsThem()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = await StartWithDeclaredLengthAsync(sweeper, 6400);
        writer.BeginSynchronousPhase();

        await WriteHeldAsync(writer, 63);
        Assert.Equal(0, server.Bytes);
        await writer.WriteAsync(new byte[100]);

        Assert.Equal(6400, server.Bytes);
        writer.EndSynchronousPhase();
    }

    // A handler gone asynchronous: held writes wait for the timer, which sends them at the deadline.
    [Fact]
    public async Task HeldWrites_Watched_TheTimerSendsThemAtTheDeadline()
    {
        using var sweeper = new HeldResponseSweeper(_clock);
        var (writer, server) = Start(sweeper);
        writer.WatchHeldBytes();

        await WriteHeldAsync(writer, 64);
        AdvanceByMilliseconds(1);
        Assert.Equal(0, server.Bytes);
        AdvanceByMilliseconds(10);

        Assert.Equal(1, server.Writes);
        Assert.Equal(6400, server.Bytes);
    }

    // 100 bytes held by a handler gone asynchronous, then the timer's flush of them, left pending by the server.
    private async Task<(MessageBoundaryPipeWriter Writer, RecordingBody Server)> StartWithTimerFlushInFlightAsync(HeldResponseSweeper sweeper)
    {
        var (writer, server) = Start(sweeper);
        writer.WatchHeldBytes();
        await writer.WriteAsync(new byte[100]);
        server.BlockFlushes = true;
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        return (writer, server);
    }

    private async Task<(MessageBoundaryPipeWriter Writer, RecordingBody Server)> StartWithDeclaredLengthAsync(HeldResponseSweeper sweeper, long contentLength)
    {
        var (writer, server) = Start(sweeper);
        server.Response.Headers.ContentLength = contentLength;
        await server.StartAsync();
        return (writer, server);
    }

    // Writes of 100 bytes, one after the other, as a chatty handler makes them.
    private static async Task WriteHeldAsync(MessageBoundaryPipeWriter writer, int writes)
    {
        for (var i = 0; i < writes; i++)
        {
            await writer.WriteAsync(new byte[100]);
        }
    }

    // A millisecond at a time, so that each of the timer's deadlines fires at its own time.
    private void AdvanceByMilliseconds(int milliseconds)
    {
        for (var ms = 0; ms < milliseconds; ms++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }
    }

    private (MessageBoundaryPipeWriter Writer, RecordingBody Server) Start(HeldResponseSweeper sweeper, TimeProvider? clock = null)
    {
        var writer = new MessageBoundaryPipeWriter(clock ?? _clock, sweeper);
        return (writer, Restart(writer));
    }

    // The connection's next response, on the same writer.
    private static RecordingBody Restart(MessageBoundaryPipeWriter writer)
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = "HTTP/1.1";
        // Kestrel's request always has one (the writer hooks its Abort while bytes are held).
        context.Features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature());
        var response = new StartableResponseFeature();
        context.Features.Set<IHttpResponseFeature>(response);
        var server = new RecordingBody(response);
        context.Features.Set<IHttpResponseBodyFeature>(server);
        writer.Initialize(context, server, s_policy, routesOverride: false, cork: null);
        return server;
    }

    /// <summary>The fake clock, counting how often it is read.</summary>
    private sealed class CountingClock(FakeTimeProvider inner) : TimeProvider
    {
        public int Reads { get; private set; }

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override long GetTimestamp()
        {
            Reads++;
            return inner.GetTimestamp();
        }

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => inner.CreateTimer(callback, state, dueTime, period);
    }

    private sealed class StartableResponseFeature : HttpResponseFeature
    {
        public bool Started { get; set; }

        public override bool HasStarted => Started;
    }

    /// <summary>The server's body: counts writes and bytes, and can hold flushes pending.</summary>
    private sealed class RecordingBody(StartableResponseFeature response) : PipeWriter, IHttpResponseBodyFeature
    {
        private TaskCompletionSource<FlushResult>? _pending;

        public bool BlockFlushes { get; set; }

        public int Writes { get; private set; }

        public long Bytes { get; private set; }

        public int ConcurrentFlushes { get; private set; }

        public int AdvancedWhileFlushPending { get; private set; }

        public int LargestSizeHint { get; private set; }

        public int Spans { get; private set; }

        public int SpansWhileFlushPending { get; private set; }

        public int Flushes { get; private set; }

        public Stream Stream => throw new NotSupportedException();

        public PipeWriter Writer => this;

        public StartableResponseFeature Response => response;

        public void CompleteFlush() => _pending?.TrySetResult(default);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            VerifyLength(source.Length);
            Writes++;
            Bytes += source.Length;
            return FlushAsync(cancellationToken);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
            if (_pending is { Task.IsCompleted: false })
            {
                ConcurrentFlushes++;
            }

            if (!BlockFlushes)
            {
                return default;
            }

            _pending = new TaskCompletionSource<FlushResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask<FlushResult>(_pending.Task);
        }

        public Task StartAsync(CancellationToken cancellationToken = default)
        {
            response.Started = true;
            return Task.CompletedTask;
        }

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync() => Task.CompletedTask;

        public override void Advance(int bytes)
        {
            VerifyLength(bytes);
            Bytes += bytes;
            if (_pending is { Task.IsCompleted: false })
            {
                AdvancedWhileFlushPending++;
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            LargestSizeHint = Math.Max(LargestSizeHint, sizeHint);
            Spans++;
            if (_pending is { Task.IsCompleted: false })
            {
                SpansWhileFlushPending++;
            }
            return new byte[Math.Max(sizeHint, 4096)];
        }

        // As Kestrel does, before it touches its buffer: no bytes past a Content-Length (unless a Transfer-Encoding is set).
        private void VerifyLength(long count)
        {
            if (response.Headers.ContentLength is { } length && response.Headers.TransferEncoding.Count == 0 && Bytes + count > length)
            {
                throw new InvalidOperationException($"Response Content-Length mismatch: too many bytes written ({Bytes + count} of {length}).");
            }
        }

        // Kestrel's HTTP/1.1 response with no declared length.
        public void SetChunked() => response.Headers.TransferEncoding = "chunked";

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }
}
