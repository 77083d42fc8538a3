using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTuning.Benchmarks.Reporting;

namespace TcpTuning.Benchmarks.Scenarios;

/// <summary>
/// What an idle keep-alive connection keeps in the server's managed heap once it has served a response: connections
/// opened one after another, each sent one request and read to its response's end, then left open; the server's heap
/// after full collections against its heap before. Bare Kestrel beside each layer of the library.
/// </summary>
internal sealed class MemoryScenario(BenchContext context) : BenchScenario(context)
{
    private const int Connections = 1000;

    private static readonly (string Response, string Path)[] s_responses =
    [
        ("plaintext", "/plaintext"),
        ("64 x 100 B, await between writes", "/chatty-async"),
    ];

    private static readonly string[] s_tunedNames = ["Default", "Adaptive", BenchContext.Defaults];

    private readonly (string Name, ServerProcess Server, string Host)[] _configurations =
    [
        (BenchContext.Bare, context.BareServer, BenchEndpoints.Loopback.Single(e => e.Name == BenchContext.Bare).Host),
        .. BenchEndpoints.Loopback.Where(e => s_tunedNames.Contains(e.Name)).Select(e => (e.Name, context.TunedServer, e.Host)),
        .. BenchEndpoints.LoopbackCork.Select(c => (c.Name, context.TunedServer, c.Host)),
    ];

    public override async Task RunAloneAsync()
    {
        for (var round = 0; round < Context.Options.Rounds; round++)
        {
            foreach (var (response, path) in s_responses)
            {
                foreach (var (name, server, host) in Stats.Rotate(_configurations, round))
                {
                    var bytes = await RetainedPerConnectionAsync(server, server.AddressOn(host), path);
                    Measured.Add("retained", response, name, bytes);
                    Context.Progress(round, $"memory {response,-34} {name,-46} {bytes,8:F0} bytes per idle connection");
                }
            }
        }
    }

    private static async Task<double> RetainedPerConnectionAsync(ServerProcess server, Uri address, string path)
    {
        // The run's own per-connection samples (the chatty handlers record TCP_INFO) are not the server's to keep.
        await server.TakeConnectionsAsync();
        var descriptors = (await server.StatsAsync()).FileDescriptors;
        var before = await server.HeapAsync();
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        var sockets = new List<Socket>(Connections);
        try
        {
            var buffer = new byte[16 * 1024];
            for (var i = 0; i < Connections; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port);
                await socket.SendAsync(request);
                await ReceiveResponseAsync(socket, buffer);
            }

            await server.TakeConnectionsAsync();
            var after = await server.HeapAsync();
            return (after - before) / (double)Connections;
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            await WaitForClosedAsync(server, descriptors);
        }
    }

    // One response, to its end: Content-Length or the last chunk.
    private static Task ReceiveResponseAsync(Socket socket, byte[] buffer)
        => SocketReceive.UntilAsync(socket, buffer, static received =>
        {
            var headersEnd = received.IndexOf("\r\n\r\n"u8);
            if (headersEnd < 0)
            {
                return false;
            }

            var headers = Encoding.ASCII.GetString(received[..headersEnd]);
            var lengthLine = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            return lengthLine is not null
                ? received.Length >= headersEnd + 4 + int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)
                : received.EndsWith("0\r\n\r\n"u8);
        });

    // Kestrel lets go of a closed connection once it has seen the close: the next measurement starts without them.
    private static async Task WaitForClosedAsync(ServerProcess server, long descriptors)
    {
        for (var attempt = 0; attempt < 100 && (await server.StatsAsync()).FileDescriptors > descriptors; attempt++)
        {
            await Task.Delay(100);
        }
    }

    public override void WriteReport(ReportWriter report)
    {
        report.Heading(2, "Memory per idle connection");
        report.Paragraph($"{Connections:N0} keep-alive connections opened one after another on loopback, each sent one GET and read to its response's end, then left open; the server process's managed heap after full, compacting collections (`GC.GetTotalMemory` after forced collections, the pinned heap with Kestrel's blocks included), less its heap before the connections opened, per connection. The connections are closed before the next configuration. Bare Kestrel's figure is what Kestrel itself keeps per connection; each configuration of the library adds its layers: *Default* the per-connection feature, *Adaptive* the QuickAck reader and writer, the library defaults the flush policy's per-connection state (kept between responses, with one pool block while the process-wide budget allows), the *Cork* endpoints the send pump and its pipe.");
        report.Table("response", "configuration", ">bytes per idle connection", ">over bare Kestrel");
        foreach (var (response, _) in s_responses)
        {
            var bare = Measured.Median("retained", response, BenchContext.Bare);
            foreach (var (name, _, _) in _configurations)
            {
                var bytes = Measured.Median("retained", response, name);
                report.Row($"{response} | {name} | {bytes:F0} | {(name == BenchContext.Bare ? "" : (bytes - bare).ToString("+0;-0", System.Globalization.CultureInfo.InvariantCulture))}");
            }
        }

        report.EndTable();
    }
}
