using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// <c>MessageBoundary</c> must never be worse than Kestrel's own behaviour: the same handlers behind a <c>PerWrite</c>
/// endpoint (Kestrel's behaviour, the control) and a <c>MessageBoundary</c> endpoint, under the inputs that once
/// differed: failing handlers, slow readers, and writes followed by a long await.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class MessageBoundaryNoHarmTests
{
    private const string PerWriteHost = "127.0.0.2";
    private const string BoundaryHost = "127.0.0.3";
    private const string SecurePerWriteHost = "127.0.0.4";
    private const string SecureBoundaryHost = "127.0.0.5";
    private const string CorkBoundaryHost = "127.0.0.6";

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:PerWrite:Url"] = $"http://{PerWriteHost}:0",
        ["Kestrel:Endpoints:Boundary:Url"] = $"http://{BoundaryHost}:0",
        ["Kestrel:Endpoints:SecurePerWrite:Url"] = $"https://{SecurePerWriteHost}:0",
        ["Kestrel:Endpoints:SecurePerWrite:Protocols"] = "Http1",
        ["Kestrel:Endpoints:SecureBoundary:Url"] = $"https://{SecureBoundaryHost}:0",
        ["Kestrel:Endpoints:SecureBoundary:Protocols"] = "Http1",
        ["Kestrel:Endpoints:CorkBoundary:Url"] = $"http://{CorkBoundaryHost}:0",
        ["TcpTuning:Endpoints:PerWrite:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:SecurePerWrite:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:CorkBoundary:Cork"] = "true",
    };

    // The slow download: a reader at 32 KiB/s takes about 8 s.
    private const int SlowLength = 256 * 1024;

    private static readonly ConcurrentDictionary<string, long> s_writeTimes = new();

    public static TheoryData<string> FailingScripts => new()
    {
        "/fail/too-long-first",
        "/fail/advance-then-throw",
        "/fail/write-advance-then-throw",
        "/fail/write-then-throw",
        "/fail/bodyless-advance?status=204",
        "/fail/short-body",
        "/fail/complete-writer-with-error",
    };

    [Theory]
    [MemberData(nameof(FailingScripts))]
    public Task FailingHandler_Http11_SameBytesOnTheWireAsPerWrite(string path) => AssertSameWireAsync(path, PerWriteHost, BoundaryHost);

    [Theory]
    [MemberData(nameof(FailingScripts))]
    public Task FailingHandler_Https_SameBytesOnTheWireAsPerWrite(string path) => AssertSameWireAsync(path, SecurePerWriteHost, SecureBoundaryHost);

    [Theory]
    [InlineData(BoundaryHost, "text", 100)]
    [InlineData(BoundaryHost, "text", 3900)]
    [InlineData(BoundaryHost, "text", 4000)]
    [InlineData(BoundaryHost, "text", 40000)]
    [InlineData(BoundaryHost, "stream", 4000)]
    [InlineData(BoundaryHost, "pipe", 4000)]
    [InlineData(CorkBoundaryHost, "text", 100)]
    [InlineData(CorkBoundaryHost, "text", 4000)]
    [InlineData(CorkBoundaryHost, "stream", 4000)]
    [InlineData(PerWriteHost, "text", 4000)]
    public async Task WriteThenLongAwait_BytesLeaveWithinTheDelay_NotWhenTheAwaitEnds(string host, string writer, int chars)
    {
        await using var server = await StartAsync();
        var id = Guid.NewGuid().ToString("N");

        await using var connection = await RawHttpConnection.ConnectAsync(server.AddressOn(host));
        await connection.SendGetAsync($"/hold?writer={writer}&chars={chars}&id={id}");
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new StringBuilder();
        while (!received.ToString().Contains("xx", StringComparison.Ordinal))
        {
            var read = await connection.Stream.ReadAsync(buffer, timeout.Token);
            Assert.NotEqual(0, read);
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var arrived = Stopwatch.GetTimestamp();
        var held = Stopwatch.GetElapsedTime(s_writeTimes[id], arrived);

        // The handler awaits 100 ms after the write. The delay is 5 ms; the margin here is wide on purpose (a busy
        // test machine), and the distribution of hold times is measured by the reliability suite.
        Assert.True(held < TimeSpan.FromMilliseconds(50), $"the first bytes arrived {held.TotalMilliseconds:F1} ms after their write");
    }

    [Fact]
    public async Task WriteThenAbort_BodyArrivesAsOftenAsWithPerWrite()
    {
        // Kestrel's send loop sends a flushed write while the handler yields; the abort then cuts the connection. Held
        // bytes must get the same chance: without handing them over (and letting their flush complete) before the
        // abort, they never arrived; handed over without waiting, about half of the time.
        await using var server = await StartAsync();

        var perWrite = await CountWholeBodiesAsync(server.AddressOn(PerWriteHost));
        var boundary = await CountWholeBodiesAsync(server.AddressOn(BoundaryHost));

        Assert.True(perWrite >= 16, $"the control received the body before the reset {perWrite} times of 20");
        Assert.True(boundary >= 16, $"MessageBoundary: the body arrived before the reset {boundary} times of 20 (PerWrite {perWrite})");

        static async Task<int> CountWholeBodiesAsync(Uri address)
        {
            var whole = 0;
            for (var i = 0; i < 20; i++)
            {
                await using var connection = await RawHttpConnection.ConnectAsync(address);
                await connection.SendGetAsync("/write-then-abort");
                var received = await connection.ReadAllAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
                if (Encoding.ASCII.GetString(received.Bytes).Contains(new string('q', 3000), StringComparison.Ordinal))
                {
                    whole++;
                }
            }

            return whole;
        }
    }

    [Fact]
    public async Task SlowReader_KeptAsPerWriteKeepsIt()
    {
        // A reader at 4x the minimum response data rate must keep its download. Kestrel times a blocked flush by the
        // bytes it was handed with it; bytes it never counted get only the grace period.
        await using var server = await StartAsync(builder => builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 8 * 1024, gracePeriod: TimeSpan.FromSeconds(2))),
            new Dictionary<string, string?>
            {
                ["TcpTuning:Defaults:FlushThreshold"] = "131072",
                ["TcpTuning:Defaults:SendBufferSize"] = "16384",
            });

        var perWrite = ReadSlowlyAsync(server.AddressOn(PerWriteHost));
        var boundary = ReadSlowlyAsync(server.AddressOn(BoundaryHost));

        // Headers included, so reaching the body's length means all but the last few hundred bytes arrived.
        Assert.True(await perWrite >= SlowLength, "the control lost its download");
        Assert.True(await boundary >= SlowLength, "the MessageBoundary endpoint reset a reader at 4x the minimum rate");

        static async Task<long> ReadSlowlyAsync(Uri address)
        {
            await using var connection = await RawHttpConnection.ConnectAsync(address, receiveBufferSize: 4096);
            await connection.SendGetAsync("/slow");
            var buffer = new byte[4096];
            var total = 0L;
            var started = Stopwatch.GetTimestamp();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                while (true)
                {
                    // 32 KiB/s: four times the minimum rate.
                    var due = TimeSpan.FromSeconds(total / (32.0 * 1024));
                    var wait = due - Stopwatch.GetElapsedTime(started);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, timeout.Token);
                    }

                    var read = await connection.Stream.ReadAsync(buffer, timeout.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                    if (total >= SlowLength)
                    {
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // Reset by the server: the download was lost.
            }

            return total;
        }
    }

    private static async Task AssertSameWireAsync(string path, string controlHost, string tunedHost)
    {
        await using var server = await StartAsync();

        var control = await ExchangeAsync(server.AddressOn(controlHost), path);
        var tuned = await ExchangeAsync(server.AddressOn(tunedHost), path);

        Assert.Equal(control, tuned);

        // The failing response, then (if the connection is still open) a plain one on the same connection: bytes of
        // the first must never reach the second. Compared as a client decodes them: where chunks are cut may differ.
        static async Task<string> ExchangeAsync(Uri address, string path)
        {
            await using var connection = await RawHttpConnection.ConnectAsync(address);
            await connection.SendGetAsync(path);
            var first = await connection.ReadAllAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
            if (first.Ending != "idle")
            {
                return Http11ResponseReader.Describe(first);
            }

            await connection.SendGetAsync("/ok");
            var second = await connection.ReadAllAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5));
            return $"{Http11ResponseReader.Describe(first)}\n--\n{Http11ResponseReader.Describe(second)}";
        }
    }

    private static Task<TuningTestServer> StartAsync(Action<WebApplicationBuilder>? configure = null, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(s_settings);
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return TuningTestServer.StartAsync(settings, configure, map: Map);
    }

    private static void Map(WebApplication app)
    {
        app.MapGet("/ok", () => "ok");
        app.MapGet("/write-then-abort", async (HttpContext context) =>
        {
            await context.Response.WriteAsync(new string('q', 3000));
            await Task.Yield();
            context.Abort();
        });
        app.MapGet("/fail/too-long-first", async (HttpContext context) =>
        {
            context.Response.ContentLength = 3;
            await context.Response.Body.WriteAsync("abcdef"u8.ToArray());
        });
        app.MapGet("/fail/advance-then-throw", (HttpContext context) =>
        {
            "unflushed"u8.CopyTo(context.Response.BodyWriter.GetSpan(9));
            context.Response.BodyWriter.Advance(9);
            throw new InvalidOperationException("after an unflushed advance");
        });
        app.MapGet("/fail/write-advance-then-throw", async (HttpContext context) =>
        {
            await context.Response.Body.WriteAsync("written\n"u8.ToArray());
            "unflushed"u8.CopyTo(context.Response.BodyWriter.GetSpan(9));
            context.Response.BodyWriter.Advance(9);
            throw new InvalidOperationException("after a write and an unflushed advance");
        });
        app.MapGet("/fail/write-then-throw", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("one\n");
            await Task.Yield();
            await context.Response.WriteAsync("two\n");
            throw new InvalidOperationException("after two writes");
        });
        app.MapGet("/fail/bodyless-advance", (HttpContext context, int status) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentLength = 8000;
            var span = context.Response.BodyWriter.GetSpan(8000);
            span[..8000].Fill((byte)'s');
            context.Response.BodyWriter.Advance(8000);
            return Task.CompletedTask;
        });
        app.MapGet("/fail/short-body", async (HttpContext context) =>
        {
            context.Response.ContentLength = 100;
            await context.Response.Body.WriteAsync("only ten b"u8.ToArray());
        });
        app.MapGet("/fail/complete-writer-with-error", async (HttpContext context) =>
        {
            await context.Response.Body.WriteAsync("before\n"u8.ToArray());
            await context.Response.BodyWriter.CompleteAsync(new InvalidOperationException("completed with an error"));
        });
        app.MapGet("/hold", async (HttpContext context, string writer, int chars, string id) =>
        {
            var text = new string('x', chars);
            switch (writer)
            {
                case "text":
                    await context.Response.WriteAsync(text);
                    break;
                case "stream":
                    await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes(text));
                    break;
                default:
                    Encoding.ASCII.GetBytes(text, context.Response.BodyWriter.GetSpan(chars));
                    context.Response.BodyWriter.Advance(chars);
                    await context.Response.BodyWriter.FlushAsync();
                    break;
            }

            s_writeTimes[id] = Stopwatch.GetTimestamp();
            await Task.Delay(100, context.RequestAborted);
            await context.Response.WriteAsync("END");
        });
        app.MapGet("/slow", async (HttpContext context) =>
        {
            context.Response.ContentLength = SlowLength;
            var block = new byte[4096];
            Array.Fill(block, (byte)'z');
            for (var written = 0; written < SlowLength; written += block.Length)
            {
                await context.Response.Body.WriteAsync(block, context.RequestAborted);
            }
        });
    }
}
