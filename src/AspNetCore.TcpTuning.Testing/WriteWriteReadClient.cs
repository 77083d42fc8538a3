using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Testing;

/// <summary>
/// An HTTP/1.1 client that behaves like the ones delayed ACK stalls: Nagle's algorithm on, request headers and body
/// sent in two writes, then a read. Against a server that delays its ACK, every request from the second on waits for
/// the full delayed-ACK timeout (40 ms on Linux).
/// </summary>
/// <remarks>
/// One keep-alive connection; requests are sequential. <c>http</c> and <c>https</c> (each write then leaves as its own
/// TLS record, so the stall is the same); a host name is resolved and its addresses tried in turn.
/// </remarks>
public sealed class WriteWriteReadClient : IDisposable
{
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly string _host;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _buffered;
    private long _firstByteTimestamp;
    private List<ArrivedBytes>? _arrivals;
    private long _arrivalsStarted;

    private WriteWriteReadClient(Socket socket, Stream stream, string host)
    {
        _socket = socket;
        _stream = stream;
        _host = host;
    }

    /// <summary>Whether headers and body go out in one send (the floor) instead of two.</summary>
    public bool SingleSend { get; init; }

    /// <summary>The client socket, for reading TCP_INFO of the client side.</summary>
    public Socket Socket => _socket;

    /// <summary>Connects to <paramref name="server"/> with Nagle's algorithm on (or off, with <paramref name="noDelay"/>).</summary>
    /// <param name="server">The server's base address: <c>http</c> or <c>https</c>, an IP address or a host name.</param>
    /// <param name="singleSend">Send headers and body in one write.</param>
    /// <param name="noDelay">Disable Nagle's algorithm on the client.</param>
    /// <param name="maximumSegmentSize">The MSS to announce (TCP_MAXSEG, its number for this OS), to get real segment sizes on loopback: 1460 as on Ethernet (with TCP timestamps, 1448-byte payloads). Set on Linux; macOS and Windows untested.</param>
    /// <param name="certificateValidation">For <c>https</c>: accepts the server's certificate (a test certificate); null for the system's validation.</param>
    /// <param name="cancellationToken">Cancels the connect and the TLS handshake.</param>
    /// <returns>The connected client.</returns>
    public static async Task<WriteWriteReadClient> ConnectAsync(Uri server, bool singleSend = false, bool noDelay = false, int? maximumSegmentSize = null, RemoteCertificateValidationCallback? certificateValidation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        var addresses = IPAddress.TryParse(server.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(server.DnsSafeHost, cancellationToken).ConfigureAwait(false);
        Exception? failure = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = noDelay };
            try
            {
                if (maximumSegmentSize is int mss)
                {
                    var (level, name) = MaximumSegmentSizeOption();
                    socket.SetRawSocketOption(level, name, BitConverter.GetBytes(mss));
                }

                await socket.ConnectAsync(new IPEndPoint(address, server.Port), cancellationToken).ConfigureAwait(false);
                Stream stream = new NetworkStream(socket, ownsSocket: true);
                if (server.Scheme == Uri.UriSchemeHttps)
                {
                    var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = tls;
                    await tls.AuthenticateAsClientAsync(
                        new SslClientAuthenticationOptions
                        {
                            TargetHost = server.IdnHost,
                            RemoteCertificateValidationCallback = certificateValidation,
                            ApplicationProtocols = [SslApplicationProtocol.Http11],
                        },
                        cancellationToken).ConfigureAwait(false);
                }

                return new WriteWriteReadClient(socket, stream, server.Authority) { SingleSend = singleSend };
            }
            catch (SocketException ex) when (addresses.Length > 1)
            {
                // localhost: Kestrel may listen on one of its addresses only.
                socket.Dispose();
                failure = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw failure ?? new SocketException((int)SocketError.HostNotFound);
    }

    // TCP_MAXSEG's number here, from the library's platform layer.
    private static (int Level, int Name) MaximumSegmentSizeOption()
    {
        var kind = TcpPlatform.Current.Kind;
        return RawOptionNames.TryGetLevel(kind, "Tcp", out var level) && RawOptionNames.TryGetName(kind, level, "TCP_MAXSEG", out var name)
            ? (level, name)
            : throw new PlatformNotSupportedException($"TCP_MAXSEG is not known on {kind}: connect without a maximum segment size.");
    }

    /// <summary>POSTs <paramref name="body"/> to <paramref name="path"/> and reads the whole response.</summary>
    /// <param name="path">The request path.</param>
    /// <param name="body">The request body.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The status code and the time from the first send to the last byte of the response.</returns>
    public async Task<(int StatusCode, TimeSpan Elapsed)> PostAsync(string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        var headers = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {_host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n");
        var started = Stopwatch.GetTimestamp();
        if (SingleSend)
        {
            var request = new byte[headers.Length + body.Length];
            headers.CopyTo(request, 0);
            body.CopyTo(request.AsMemory(headers.Length));
            await SendAllAsync(request, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SendAllAsync(headers, cancellationToken).ConfigureAwait(false);
            await SendAllAsync(body, cancellationToken).ConfigureAwait(false);
        }

        var (status, _) = await ReadResponseAsync(body: null, cancellationToken).ConfigureAwait(false);
        return (status, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>GETs <paramref name="path"/> on this connection and returns the status and the decoded body.</summary>
    /// <param name="path">The request path.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The status code and the body (chunked framing removed).</returns>
    public async Task<(int StatusCode, byte[] Body)> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        await SendAllAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_host}\r\n\r\n"), cancellationToken).ConfigureAwait(false);
        using var body = new MemoryStream();
        var (status, _) = await ReadResponseAsync(body, cancellationToken).ConfigureAwait(false);
        return (status, body.ToArray());
    }

    /// <summary>GETs <paramref name="path"/> on this connection and times the first byte and the whole response.</summary>
    /// <param name="path">The request path.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The status code, the time to the first response byte, and the time to the last.</returns>
    public async Task<(int StatusCode, TimeSpan FirstByte, TimeSpan Elapsed)> TimeGetAsync(string path, CancellationToken cancellationToken = default)
    {
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_host}\r\n\r\n");
        _firstByteTimestamp = 0;
        var started = Stopwatch.GetTimestamp();
        await SendAllAsync(request, cancellationToken).ConfigureAwait(false);
        var (status, _) = await ReadResponseAsync(body: null, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var firstByte = _firstByteTimestamp == 0 ? elapsed : Stopwatch.GetElapsedTime(started, _firstByteTimestamp);
        return (status, firstByte, elapsed);
    }

    /// <summary>
    /// GETs <paramref name="path"/> and times every read of the response as it arrives: when a streaming response's
    /// pieces (server-sent events, progress) reached the client, and how many bytes each brought.
    /// </summary>
    /// <param name="path">The request path.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The status code and, in order, each read's time since the request was sent and its bytes (framing included).</returns>
    public async Task<(int StatusCode, IReadOnlyList<ArrivedBytes> Arrivals)> GetArrivalsAsync(string path, CancellationToken cancellationToken = default)
    {
        var arrivals = new List<ArrivedBytes>();
        _arrivals = arrivals;
        _arrivalsStarted = Stopwatch.GetTimestamp();
        try
        {
            await SendAllAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_host}\r\n\r\n"), cancellationToken).ConfigureAwait(false);
            var (status, _) = await ReadResponseAsync(body: null, cancellationToken).ConfigureAwait(false);
            return (status, arrivals);
        }
        finally
        {
            _arrivals = null;
        }
    }

    /// <summary>
    /// Sends GETs of <paramref name="paths"/> in one write (HTTP/1.1 pipelining), then reads their responses in order.
    /// </summary>
    /// <param name="paths">The request paths, in order.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>Each response's status code and decoded body, in the order of the requests.</returns>
    public async Task<IReadOnlyList<(int StatusCode, byte[] Body)>> GetPipelinedAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var requests = new StringBuilder();
        foreach (var path in paths)
        {
            requests.Append(CultureInfo.InvariantCulture, $"GET {path} HTTP/1.1\r\nHost: {_host}\r\n\r\n");
        }

        await SendAllAsync(Encoding.ASCII.GetBytes(requests.ToString()), cancellationToken).ConfigureAwait(false);
        var responses = new List<(int, byte[])>(paths.Count);
        for (var i = 0; i < paths.Count; i++)
        {
            using var body = new MemoryStream();
            var (status, _) = await ReadResponseAsync(body, cancellationToken).ConfigureAwait(false);
            responses.Add((status, body.ToArray()));
        }

        return responses;
    }

    /// <summary>Sends <paramref name="requests"/> sequential POSTs on one connection and summarises their latency.</summary>
    /// <param name="server">The server's base address: <c>http</c> or <c>https</c>, an IP address or a host name.</param>
    /// <param name="path">The request path; the server should read the body and answer.</param>
    /// <param name="requests">How many requests.</param>
    /// <param name="bodySize">The body size in bytes.</param>
    /// <param name="singleSend">Send headers and body in one write (the floor).</param>
    /// <param name="skipFirst">Leave the first request out: Linux quick-ACKs at connection start, so it never stalls.</param>
    /// <param name="certificateValidation">For <c>https</c>: accepts the server's certificate; null for the system's validation.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The latency summary.</returns>
    public static async Task<LatencySummary> MeasureAsync(Uri server, string path, int requests, int bodySize = 50, bool singleSend = false, bool skipFirst = true, RemoteCertificateValidationCallback? certificateValidation = null, CancellationToken cancellationToken = default)
    {
        using var client = await ConnectAsync(server, singleSend, certificateValidation: certificateValidation, cancellationToken: cancellationToken).ConfigureAwait(false);
        var body = new byte[bodySize];
        body.AsSpan().Fill((byte)'x');
        var latencies = new List<TimeSpan>(requests);
        for (var i = 0; i < requests; i++)
        {
            var (status, elapsed) = await client.PostAsync(path, body, cancellationToken).ConfigureAwait(false);
            if (status != 200)
            {
                throw new HttpRequestException($"POST {path} answered {status}.");
            }

            if (i > 0 || !skipFirst)
            {
                latencies.Add(elapsed);
            }
        }

        return LatencySummary.From(latencies);
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    // One write: one send (one TLS record under https), so two calls are two sends, as the stall needs.
    private async Task SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<(int Status, string Head)> ReadResponseAsync(MemoryStream? body, CancellationToken cancellationToken)
    {
        int headerLength;
        while ((headerLength = _buffer.AsSpan(0, _buffered).IndexOf(s_headerEnd)) < 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        var head = Encoding.ASCII.GetString(_buffer, 0, headerLength);
        Consume(headerLength + s_headerEnd.Length);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var contentLength = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => (long?)long.Parse(p[1].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault();
        var chunked = lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase));

        if (chunked)
        {
            await SkipChunkedBodyAsync(body, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SkipAsync(contentLength ?? 0, body, cancellationToken).ConfigureAwait(false);
        }

        return (status, head);
    }

    private async Task SkipChunkedBodyAsync(MemoryStream? body, CancellationToken cancellationToken)
    {
        while (true)
        {
            int lineEnd;
            while ((lineEnd = _buffer.AsSpan(0, _buffered).IndexOf("\r\n"u8)) < 0)
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }

            var size = long.Parse(Encoding.ASCII.GetString(_buffer, 0, lineEnd).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            Consume(lineEnd + 2);
            await SkipAsync(size, body, cancellationToken).ConfigureAwait(false);
            await SkipAsync(2, body: null, cancellationToken).ConfigureAwait(false);
            if (size == 0)
            {
                return;
            }
        }
    }

    private async Task SkipAsync(long count, MemoryStream? body, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_buffered == 0)
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }

            var take = (int)Math.Min(count, _buffered);
            body?.Write(_buffer, 0, take);
            Consume(take);
            count -= take;
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_buffered == _buffer.Length)
        {
            throw new InvalidDataException("Response headers exceed 64 KiB.");
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_buffered), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new IOException("The server closed the connection before the response ended.");
        }

        if (_firstByteTimestamp == 0)
        {
            _firstByteTimestamp = Stopwatch.GetTimestamp();
        }

        _arrivals?.Add(new ArrivedBytes(Stopwatch.GetElapsedTime(_arrivalsStarted), read));

        _buffered += read;
    }

    private void Consume(int count)
    {
        Buffer.BlockCopy(_buffer, count, _buffer, 0, _buffered - count);
        _buffered -= count;
    }
}
