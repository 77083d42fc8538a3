using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// <c>Cork</c> on real sockets: the client announces an MSS of 1448 (as on Ethernet) so segment sizes are real on
/// loopback; segments are read from TCP_INFO on the server's socket. A bare endpoint is the control.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class CorkTests
{
    private const string BareHost = "127.0.0.2";
    private const string CorkHost = "127.0.0.3";
    private const string CorkBoundaryHost = "127.0.0.4";
    private const string SecureCorkHost = "127.0.0.5";
    private const string LongBoundCorkHost = "127.0.0.6";
    private const string SecureLongBoundCorkHost = "127.0.0.7";
    private const int Mss = 1448;

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Bare:Url"] = $"http://{BareHost}:0",
        ["Kestrel:Endpoints:Cork:Url"] = $"http://{CorkHost}:0",
        ["Kestrel:Endpoints:CorkBoundary:Url"] = $"http://{CorkBoundaryHost}:0",
        ["Kestrel:Endpoints:SecureCork:Url"] = $"https://{SecureCorkHost}:0",
        ["TcpTuning:Endpoints:Bare:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:Cork:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:Cork:Cork"] = "true",
        ["TcpTuning:Endpoints:CorkBoundary:Cork"] = "true",
        ["TcpTuning:Endpoints:SecureCork:Cork"] = "true",
        ["TcpTuning:Endpoints:SecureCork:ResponseFlush"] = "PerWrite",
        ["Kestrel:Endpoints:LongBoundCork:Url"] = $"http://{LongBoundCorkHost}:0",
        ["TcpTuning:Endpoints:LongBoundCork:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:LongBoundCork:Cork"] = "true",
        ["TcpTuning:Endpoints:LongBoundCork:MaxFlushDelay"] = "00:00:00.200",
        ["Kestrel:Endpoints:SecureLongBoundCork:Url"] = $"https://{SecureLongBoundCorkHost}:0",
        ["TcpTuning:Endpoints:SecureLongBoundCork:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:SecureLongBoundCork:Cork"] = "true",
        ["TcpTuning:Endpoints:SecureLongBoundCork:MaxFlushDelay"] = "00:00:01",
    };

    // When the handler of /big-events or /big-flushed began the call that must send each piece (the event's write, the
    // explicit flush), as a Stopwatch timestamp, by path and piece.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> s_pieceDone = new();


    [LinuxFact]
    public async Task ManySmallFlushes_BareSendsPartialSegments_CorkFillsThem()
    {
        await using var server = await StartAsync();

        var bare = await SegmentsAsync(server.AddressOn(BareHost), "/pieces?n=64&delayMs=1");
        using var metrics = MetricsOf(server);
        var cork = await SegmentsAsync(server.AddressOn(LongBoundCorkHost), "/pieces?n=64&delayMs=1");
        var safetyReleases = metrics.Releases;

        Assert.True(bare.Segments > 10, $"bare: {bare.Segments} segments for {bare.Bytes} bytes; the control should show partial segments");
        // The minimum: only the send with the message's end carries a partial segment. The writes come 1 ms apart for
        // 64 ms and more, so the endpoint's bound is 200 ms here (with the default 5 ms the pump sends what it holds
        // every 3 ms: see the next test). A 1 ms delay that oversleeps 200 ms on a loaded machine lets the bound send a
        // partial segment; each such release is counted, and allowed for.
        Assert.True(cork.Segments <= cork.Minimum + safetyReleases, $"cork: {cork.Segments} segments for {cork.Bytes} bytes, minimum {cork.Minimum}, safety releases {safetyReleases}");
        Assert.True(safetyReleases <= 3, $"{safetyReleases} safety releases: the holding under test barely happened");
    }

    [LinuxFact]
    public async Task SlowProducer_DefaultBound_HeldBytesLeaveWithinMaxFlushDelay()
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);

        // The same slow producer on the default bound (MaxFlushDelay 5 ms): the pump holds no byte past it, so over 64
        // writes 1 ms apart it lets go of its partial segment again and again, each time counted. With the bound
        // counted from the last write instead (as the safety net once was), a producer this steady was never released.
        var cork = await SegmentsAsync(server.AddressOn(CorkHost), "/pieces?n=64&delayMs=1");

        Assert.True(metrics.Releases >= 5, $"{metrics.Releases} releases at the bound over {cork.Segments} segments");
    }

    [LinuxFact]
    public async Task SmallChunkedResponse_BareSendsBodyAndTerminatorApart_CorkOneSegment()
    {
        await using var server = await StartAsync();

        // One 100-byte write, an await, then Kestrel's terminating chunk: bare Kestrel sends them apart; the pump holds
        // the first (the message has not ended) and sends it with the terminator, as TCP_CORK from the first send would.
        var bare = await SegmentsAsync(server.AddressOn(BareHost), "/pieces?n=1", requests: 20);
        using var metrics = MetricsOf(server);
        var cork = await SegmentsAsync(server.AddressOn(CorkHost), "/pieces?n=1", requests: 20);
        var safetyReleases = metrics.Releases;

        Assert.True(bare.Segments > 20, $"bare: {bare.Segments} segments for 20 responses; the control should send body and terminator apart");
        // One segment each, exactly. (Before the pump's reset and abort handling, its block pool and the bound counted
        // from the start of a hold, about one run in forty sent one response unheld; 100 runs since have not.) Without
        // the pump this endpoint sends as bare does (40 here).
        Assert.True(cork.Segments <= 20, $"cork: {cork.Segments} segments for 20 responses, {safetyReleases} safety releases, {metrics.Holds} corks");
    }

    [LinuxFact]
    public async Task PipelinedSlowSecondResponse_FirstResponseTailLeavesAtItsEnd()
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);
        using var socket = await SocketText.ConnectAsync(server.AddressOn(CorkHost));

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /pieces?n=32&delayMs=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
        var received = new StringBuilder();
        await SocketText.ReceiveUntilAsync(socket, "0\r\n\r\n", TimeSpan.FromSeconds(5), received);
        var firstEnded = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        await SocketText.ReceiveUntilAsync(socket, "slow", TimeSpan.FromSeconds(5), received);
        var secondEnded = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        // The first response is 32 writes a millisecond apart, so its partial segments are held; the second takes 500 ms after it. A tail
        // held until the next send would arrive with the second response; it must arrive long before (wide margin).
        // (A gap wider than the hold bound between two writes lets the cork release mid-response, at the bound; the
        // end-of-message marking keeps the end itself honest.)
        Assert.True(secondEnded - firstEnded > TimeSpan.FromMilliseconds(300), $"first response ended at {firstEnded.TotalMilliseconds} ms, second at {secondEnded.TotalMilliseconds} ms");
        Assert.True(metrics.Holds >= 1);
    }

    [LinuxFact]
    public async Task AppStallsMidMessage_SafetyNetReleasesTheCork()
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);
        using var socket = await SendGetAsync(server, CorkHost, "/stall");

        // The handler writes two pieces, then waits 1 s: the second is held (less than a segment, no end marked);
        // the safety net sends it within milliseconds, not when the handler returns.
        await SocketText.ReceiveUntilAsync(socket, "second", TimeSpan.FromMilliseconds(150));
        Assert.True(metrics.Releases >= 1);
    }

    // Not on CorkBoundary: its writes are due at once (MaxFlushDelay zero), and a flush that is due pushes its bytes
    // past the pump (the delay bounds the whole stack), so the pump never holds them.
    [LinuxTheory]
    [InlineData(CorkHost)]
    public async Task ContentLengthBodyComplete_EndMarkedAtTheLastWrite_NotWhenHandlerReturns(string host)
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);

        // Three flushed writes of a Content-Length body (PerWrite flushes each; on the MessageBoundary endpoint
        // MaxFlushDelay is zero, so each is due at once; loopback's MSS is 64 KiB, so what the pump sees of them is
        // held), then the handler waits 300 ms. The write that completes the body marks the end: the tail leaves with
        // it. Were the end marked only when the handler returns, the safety net would have to send it, and would count
        // it. Whether the pump sees the writes apart (and holds across a send) depends on scheduling, so the case is
        // tried until it happens, a bounded number of times.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            using var metrics = MetricsOf(server);
            using var socket = await SendGetAsync(server, host, "/complete-then-wait");
            await SocketText.ReceiveUntilAsync(socket, "END", TimeSpan.FromMilliseconds(250));
            if (metrics.Holds >= 1)
            {
                Assert.Equal(0, metrics.Releases);
                return;
            }
        }

        Assert.Fail("In 10 attempts the pump never held bytes: the case under test did not occur.");
    }

    [LinuxFact]
    public async Task SmallWriteBuffer_PumpHoldsAtMostHalfOfIt()
    {
        // Loopback's segment is 32-64 KiB, so to fill segments the pump would hold most of a 200 KiB body (the pipe's
        // backpressure does not count bytes the pump has examined) and send it in 4 or 5 segments. With an 8 KiB write
        // buffer it holds at most 4 KiB: a send is due at every 4 KiB; how much more the writer adds before the pump
        // runs depends on scheduling (about 13 KiB here), so the bound is wide: sends of 32 KiB on average at most.
        await using var server = await StartAsync(builder => builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(
            transport => transport.MaxWriteBufferSize = 8 * 1024));

        var big = await SegmentsAsync(server.AddressOn(CorkHost), "/big?kib=200", maximumSegmentSize: null);

        Assert.True(big.Segments >= big.Bytes / (32 * 1024), $"{big.Segments} segments for {big.Bytes} bytes: the pump held far more than half the write buffer");
    }

    [LinuxTheory]
    [InlineData(CorkHost, "/events")]
    [InlineData(CorkBoundaryHost, "/events")]
    [InlineData(CorkHost, "/flushed")]
    [InlineData(CorkBoundaryHost, "/flushed")]
    public async Task StreamingResponse_EachPieceLeavesAtItsFlush_NothingLeftToTheSafetyNet(string host, string path)
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);

        // Server-sent events, or writes each followed by Response.Body.FlushAsync(), 100 ms apart: each piece is less
        // than a segment. The HTTP layer pushes each one, so the pump holds none of them: had it held one, the safety
        // net would have sent it (10 ms later) and counted it.
        using var socket = await SendGetAsync(server, host, path);
        var received = new StringBuilder();
        for (var i = 0; i < 3; i++)
        {
            await SocketText.ReceiveUntilAsync(socket, $"piece {i}", TimeSpan.FromSeconds(5), received);
        }

        Assert.Equal(0, metrics.Releases);
    }

    [LinuxTheory]
    [InlineData(CorkHost, false)]
    [InlineData(CorkBoundaryHost, false)]
    [InlineData(CorkHost, true)]
    [InlineData(CorkBoundaryHost, true)]
    public async Task AppWaitsForTheRequestBody_WhatThePeerWaitsForLeavesAtOnce_NothingLeftToTheSafetyNet(string host, bool expectContinue)
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);

        // The client sends the body only once it sees the prompt (or Kestrel's 100 Continue). Less than a segment, in
        // a message not ended: held, it would leave only by the safety net, 10 ms later, and be counted.
        using var socket = await SocketText.ConnectAsync(server.AddressOn(host));
        var expect = expectContinue ? "Expect: 100-continue\r\n" : string.Empty;
        await socket.SendAsync(Encoding.ASCII.GetBytes($"POST /prompt?prompt={!expectContinue} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n{expect}\r\n"));
        var received = new StringBuilder();
        await SocketText.ReceiveUntilAsync(socket, expectContinue ? "100 Continue" : "prompt", TimeSpan.FromSeconds(5), received);
        await socket.SendAsync("hello"u8.ToArray());
        await SocketText.ReceiveUntilAsync(socket, "got 5", TimeSpan.FromSeconds(5), received);

        Assert.Equal(0, metrics.Releases);
    }

    [LinuxTheory]
    [InlineData("/big-events")]
    [InlineData("/big-flushed")]
    public async Task HttpsPiecesLargerThanATlsRecord_LeaveWhole_NothingLeftToTheSafetyNet(string path)
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        using var metrics = MetricsOf(server);
        using var client = TuningTestServer.CreateClient();

        // Each piece (an event, or a write and an explicit flush) is 40 KiB, 300 ms apart: more than one TLS record.
        // The HTTP layer pushes each. The endpoint's bound is a second, so a piece the push left held would wait for
        // the next piece's write, 300 ms later: each must arrive well before that, and nothing reach the bound.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await client.GetAsync(new Uri(server.AddressOn(SecureLongBoundCorkHost), path), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        for (var i = 0; i < 3; i++)
        {
            Assert.EndsWith($"end {i}", await reader.ReadLineAsync(timeout.Token));
            var late = Stopwatch.GetElapsedTime(s_pieceDone[$"{path} {i}"]);
            Assert.True(late < TimeSpan.FromMilliseconds(150), $"piece {i} arrived {late.TotalMilliseconds:F1} ms after the handler began to send it");
            Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
        }

        Assert.True(metrics.Releases == 0, $"released: {metrics.ReleasesByReason}");
    }

    [LinuxTheory]
    [InlineData(BareHost)]
    [InlineData(CorkHost)]
    public async Task HandlerThrowsMidResponse_ClientSeesTheEndPromptly(string host)
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var socket = await SendGetAsync(server, host, "/throw");
        var received = 0;
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received += read;
            }
        }
        catch (SocketException)
        {
            // Reset: Kestrel aborts a response whose app failed after it started.
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Assert.True(received >= 20 * TestRoutes.Piece.Length, $"received {received} bytes");
        // Wide margin: a held tail or a connection that waits for its pump to drain would take seconds.
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"{host}: the end took {elapsed.TotalMilliseconds} ms");
    }

    [Theory]
    [InlineData(CorkHost, "/pieces?n=64&delayMs=0")]
    [InlineData(CorkBoundaryHost, "/pieces?n=64&delayMs=0")]
    [InlineData(SecureCorkHost, "/pieces?n=64&delayMs=0")]
    [InlineData(CorkHost, "/big?kib=200")]
    [InlineData(SecureCorkHost, "/big?kib=200")]
    public async Task CorkedEndpoint_SameBodyAsBare(string host, string path)
    {
        await using var server = await StartAsync();
        using var client = TuningTestServer.CreateClient();

        var expected = await client.GetByteArrayAsync(new Uri(server.AddressOn(BareHost), path));
        var actual = await client.GetByteArrayAsync(new Uri(server.AddressOn(host), path));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task CorkedHttpsEndpoint_Http2_Works()
    {
        await using var server = await StartAsync();
        using var client = TuningTestServer.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.AddressOn(SecureCorkHost), "/pieces?n=64&delayMs=0"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(64 * TestRoutes.Piece.Length, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    private static async Task<(long Segments, long Bytes, long Minimum)> SegmentsAsync(Uri address, string path, int requests = 1, int? maximumSegmentSize = Mss)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = await WriteWriteReadClient.ConnectAsync(address, cancellationToken: timeout.Token, maximumSegmentSize: maximumSegmentSize);
        var before = Parse((await client.GetAsync("/tcpinfo?full", timeout.Token)).Body);
        for (var i = 0; i < requests; i++)
        {
            Assert.Equal(200, (await client.GetAsync(path, timeout.Token)).StatusCode);
        }

        var after = Parse((await client.GetAsync("/tcpinfo?full", timeout.Token)).Body);

        // The deltas include the first /tcpinfo answer: one small segment, and its bytes. Retransmissions are the
        // kernel's loss recovery (a tail loss probe, say), not segments the server chose to send: they are left out.
        var segments = after.Segments - before.Segments - 1 - (after.Retransmits - before.Retransmits);
        var bytes = after.Bytes - before.Bytes;
        return (segments, bytes, (bytes + after.Mss - 1) / after.Mss);

        static (long Segments, long Bytes, long Mss, long Retransmits) Parse(byte[] body)
        {
            var parts = Encoding.ASCII.GetString(body).Split(' ').Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return (parts[0], parts[1], parts[2], parts[3]);
        }
    }

    /// <summary>Timing tests measure a warm server: a fresh one spends its first requests compiling and growing its thread pool.</summary>
    private static async Task WarmUpAsync(TuningTestServer server)
    {
        using var client = TuningTestServer.CreateClient();
        foreach (var host in new[] { BareHost, CorkHost })
        {
            for (var i = 0; i < 5; i++)
            {
                await client.GetByteArrayAsync(new Uri(server.AddressOn(host), "/pieces?n=64&delayMs=0"));
            }
        }
    }

    private static CorkCounters MetricsOf(TuningTestServer server) => new(server);

    // The cork's two counters on this server's meters (scoped to its IMeterFactory, so parallel tests do not mix).
    private sealed class CorkCounters(TuningTestServer server) : IDisposable
    {
        private readonly MetricCollector<long> _holds = new(server.App.Services.GetRequiredService<IMeterFactory>(), TcpTuningMetrics.MeterName, "tcp_tuning.cork.hold");
        private readonly MetricCollector<long> _releases = new(server.App.Services.GetRequiredService<IMeterFactory>(), TcpTuningMetrics.MeterName, "tcp_tuning.cork.release");

        public long Holds => _holds.GetMeasurementSnapshot().Sum(m => m.Value);

        public long Releases => _releases.GetMeasurementSnapshot().Sum(m => m.Value);

        public string ReleasesByReason => string.Join(", ", _releases.GetMeasurementSnapshot().GroupBy(m => m.Tags["tcp_tuning.cork.release.reason"]).Select(g => $"{g.Key} {g.Sum(m => m.Value)}"));

        public void Dispose()
        {
            _holds.Dispose();
            _releases.Dispose();
        }
    }

    private static async Task<Socket> SendGetAsync(TuningTestServer server, string host, string path)
    {
        var socket = await SocketText.ConnectAsync(server.AddressOn(host));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        return socket;
    }


    private static Task<TuningTestServer> StartAsync(Action<WebApplicationBuilder>? configure = null) => TuningTestServer.StartAsync(s_settings, configure, map: app =>
    {
        app.MapGet("/pieces", async (HttpContext context, int n, int? delayMs) =>
        {
            for (var i = 0; i < n; i++)
            {
                await context.Response.Body.WriteAsync(TestRoutes.Piece);
                if (delayMs > 0)
                {
                    await Task.Delay(delayMs.Value);
                }
                else
                {
                    await Task.Yield();
                }
            }
        });
        app.MapBig();
        app.MapPost("/prompt", async (HttpContext context, bool prompt) =>
        {
            if (prompt)
            {
                await context.Response.WriteAsync("prompt\n");
            }

            var body = new byte[16];
            var total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(body)) > 0)
            {
                total += read;
            }

            await context.Response.WriteAsync($"got {total}\n");
        });
        app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(500);
            await context.Response.WriteAsync("slow");
        });
        app.MapGet("/stall", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("first\n");
            await Task.Delay(20);
            await context.Response.WriteAsync("second\n");
            await Task.Delay(1000, context.RequestAborted);
        });
        app.MapGet("/complete-then-wait", async (HttpContext context) =>
        {
            byte[][] pieces = [Encoding.ASCII.GetBytes(new string('a', 999) + "\n"), Encoding.ASCII.GetBytes(new string('b', 999) + "\n"), Encoding.ASCII.GetBytes(new string('c', 996) + "END\n")];
            context.Response.ContentLength = pieces.Sum(p => p.Length);
            foreach (var piece in pieces)
            {
                await context.Response.Body.WriteAsync(piece);
                await Task.Yield();
            }

            await Task.Delay(300, context.RequestAborted);
        });
        app.MapGet("/events", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < 3; i++)
            {
                await context.Response.WriteAsync($"data: piece {i}\n\n");
                await Task.Delay(100, context.RequestAborted);
            }
        });
        app.MapGet("/big-events", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            var payload = new string('x', 40 * 1024);
            for (var i = 0; i < 3; i++)
            {
                s_pieceDone[$"/big-events {i}"] = Stopwatch.GetTimestamp();
                await context.Response.WriteAsync($"data: {payload} end {i}\n\n");
                await Task.Delay(300, context.RequestAborted);
            }
        });
        app.MapGet("/big-flushed", async (HttpContext context) =>
        {
            var payload = new string('x', 40 * 1024);
            for (var i = 0; i < 3; i++)
            {
                await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes($"data: {payload} end {i}\n\n"));
                s_pieceDone[$"/big-flushed {i}"] = Stopwatch.GetTimestamp();
                await context.Response.Body.FlushAsync();
                await Task.Delay(300, context.RequestAborted);
            }
        });
        app.MapGet("/flushed", async (HttpContext context) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes($"piece {i}\n"));
                await context.Response.Body.FlushAsync();
                await Task.Delay(100, context.RequestAborted);
            }
        });
        app.MapThrowAfterStart("/throw");
    });
}
