using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// Faults on a <c>Cork</c> endpoint against the same faults on a bare one, in the same server: clients that reset the
/// connection (close with SO_LINGER 0) in the middle of a large response, of an upload, or of the TLS handshake. The
/// server must log what bare Kestrel logs.
/// </summary>
[Collection(SocketCountingTests.Name)]
public sealed class CorkFaultTests
{
    private const string BareHost = "127.0.0.2";
    private const string CorkHost = "127.0.0.3";
    private const string SecureBareHost = "127.0.0.4";
    private const string SecureCorkHost = "127.0.0.5";
    private const int Resets = 40;

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Bare:Url"] = $"http://{BareHost}:0",
        ["Kestrel:Endpoints:Cork:Url"] = $"http://{CorkHost}:0",
        ["Kestrel:Endpoints:SecureBare:Url"] = $"https://{SecureBareHost}:0",
        ["Kestrel:Endpoints:SecureCork:Url"] = $"https://{SecureCorkHost}:0",
        ["TcpTuning:Endpoints:Bare:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:Cork:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:Cork:Cork"] = "true",
        ["TcpTuning:Endpoints:SecureBare:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:SecureCork:ResponseFlush"] = "PerWrite",
        ["TcpTuning:Endpoints:SecureCork:Cork"] = "true",
    };

    [LinuxTheory]
    [InlineData(BareHost, CorkHost, false, Fault.MidResponse)]
    [InlineData(SecureBareHost, SecureCorkHost, true, Fault.MidResponse)]
    [InlineData(BareHost, CorkHost, false, Fault.MidRequestBody)]
    [InlineData(SecureBareHost, SecureCorkHost, true, Fault.MidRequestBody)]
    [InlineData(SecureBareHost, SecureCorkHost, true, Fault.MidHandshake)]
    [InlineData(SecureBareHost, SecureCorkHost, true, Fault.Http2StreamsOpen)]
    public async Task ClientResets_LogsWhatBareLogs(string bareHost, string corkHost, bool tls, Fault fault)
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: Map);

        var bare = await LogDuringAsync(server, () => ResetManyAsync(server.AddressOn(bareHost), tls, fault));
        var cork = await LogDuringAsync(server, () => ResetManyAsync(server.AddressOn(corkHost), tls, fault));

        // Information and up: the same kinds of lines (how many requests see the reset as an application error rather
        // than an abort moves from run to run on bare as well); no warning that bare does not log either.
        Assert.Equal(Kinds(bare, LogLevel.Information).Keys.Order(), Kinds(cork, LogLevel.Information).Keys.Order());

        // Below Information, how a reset connection's end is reported (a reset, a FIN read, its own FIN or RST, a
        // communication error) moves with which side sees it first, on bare too, so Debug lines are not compared. The
        // pump's errors used to show there as well ("request processing ended abnormally", 5 to 12 per 40 resets);
        // about one in a thousand resets still does (a FIN read before the reset reached Kestrel's sender).
    }

    private static Dictionary<string, int> Kinds(List<FakeLogRecord> entries, LogLevel minimum)
        => entries.Where(e => e.Level >= minimum).GroupBy(e => $"{e.Level} {e.Category} {e.Id.Id} {e.Id.Name}").ToDictionary(g => g.Key, g => g.Count());

    private static async Task<List<FakeLogRecord>> LogDuringAsync(TuningTestServer server, Func<Task> faults)
    {
        var before = server.Logs.Count;
        await faults();

        // The server finishes the aborted requests on its own time: wait until its log has been quiet for a while.
        var last = server.Logs.Count;
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(100);
            var now = server.Logs.Count;
            if (now == last && i >= 5)
            {
                break;
            }

            last = now;
        }

        return [.. server.Logs.GetSnapshot().Skip(before)];
    }

    private static async Task ResetManyAsync(Uri address, bool tls, Fault fault)
    {
        await Parallel.ForAsync(0, Resets, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) => await ResetAsync(address, tls, fault));
    }

    // Resets the connection (close with SO_LINGER 0) at the given point of an exchange.
    private static async Task ResetAsync(Uri address, bool tls, Fault fault)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
        if (fault == Fault.MidHandshake)
        {
            // The start of a TLS record carrying a ClientHello, and no more of it.
            await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 });
            await Task.Delay(20);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            return;
        }

        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (tls)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = fault == Fault.Http2StreamsOpen ? [SslApplicationProtocol.Http2] : [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString(),
            });
            stream = ssl;
        }

        await using (stream)
        {
            if (fault == Fault.Http2StreamsOpen)
            {
                Assert.Equal(SslApplicationProtocol.Http2, ((SslStream)stream).NegotiatedApplicationProtocol);
                await stream.WriteAsync(Http2StreamsRequest());

                // Some of the responses (flow control stops them at 64 KiB in all), then gone with four streams open.
                await ReadAtLeastAsync(stream, 32 * 1024);
            }
            else if (fault == Fault.MidRequestBody)
            {
                // Half a megabyte of a one-megabyte upload, then gone.
                await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"));
                var chunk = new byte[16384];
                for (var sent = 0; sent < 512 * 1024; sent += chunk.Length)
                {
                    await stream.WriteAsync(chunk);
                }

                await Task.Delay(20);
            }
            else
            {
                // The start of a 4 MiB response, while the server is still sending.
                await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /big?kib=4096 HTTP/1.1\r\nHost: x\r\n\r\n"));
                await ReadAtLeastAsync(stream, 64 * 1024);
            }

            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
    }

    private static async Task ReadAtLeastAsync(Stream stream, int bytes)
    {
        var buffer = new byte[16384];
        for (var total = 0; total < bytes;)
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (read == 0)
            {
                return;
            }

            total += read;
        }
    }

    // The HTTP/2 preface, empty SETTINGS and four GETs of /big (streams 1, 3, 5, 7), headers in plain HPACK literals.
    private static byte[] Http2StreamsRequest()
    {
        var bytes = new List<byte>();
        bytes.AddRange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        bytes.AddRange(new byte[] { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 });
        var path = "/big?kib=4096"u8.ToArray();
        for (var stream = 1; stream <= 7; stream += 2)
        {
            // :method GET, :scheme https (indexed); :path and :authority (literal, indexed name).
            byte[] block = [0x82, 0x87, 0x04, (byte)path.Length, .. path, 0x01, 0x01, (byte)'x'];
            bytes.AddRange(new byte[] { 0, 0, (byte)block.Length, 0x1, 0x5, 0, 0, 0, (byte)stream });
            bytes.AddRange(block);
        }

        return [.. bytes];
    }

    public enum Fault
    {
        MidResponse,
        MidRequestBody,
        MidHandshake,
        Http2StreamsOpen,
    }

    private static void Map(WebApplication app)
    {
        app.MapBig();
        app.MapPost("/upload", async (HttpContext context) =>
        {
            // A prompt first, so the response has started (and is held) when the upload breaks off.
            await context.Response.WriteAsync("receiving\n");
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.WriteAsync("done\n");
        });
    }
}
