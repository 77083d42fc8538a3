using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace TcpTuning.Reliability.Wire;

/// <summary>
/// An HTTP/1.1 client that sees the bytes as the server framed them (over TCP or TLS): what a response looked like on
/// the wire, and whether the server closed the connection after it.
/// </summary>
public sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;

    private RawHttpConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public static async Task<RawHttpConnection> ConnectAsync(Uri address, int? receiveBufferSize = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(IPAddress.Parse(address.Host), address.Port, cancellationToken);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (address.Scheme == Uri.UriSchemeHttps)
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificate.Instance.GetCertHashString());
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cancellationToken);
            stream = tls;
        }

        return new RawHttpConnection(socket, stream);
    }

    public Stream Stream => _stream;

    public async Task SendGetAsync(string path, CancellationToken cancellationToken = default)
        => await SendAsync("GET", path, body: null, cancellationToken);

    public async Task SendAsync(string method, string path, byte[]? body, CancellationToken cancellationToken = default)
    {
        var head = body is null
            ? $"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"
            : $"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {body.Length}\r\n\r\n";
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        if (body is not null)
        {
            await _stream.WriteAsync(body, cancellationToken);
        }
    }

    /// <summary>Reads until the server closes, resets, or sends nothing for <paramref name="idle"/>.</summary>
    public Task<RawTranscript> ReadAllAsync(TimeSpan idle, TimeSpan total) => ReadAsync(headRequest: null, idle, total);

    /// <summary>
    /// Reads one response: until it is whole, the server closes or resets, or nothing arrives for <paramref name="idle"/>.
    /// </summary>
    public Task<RawTranscript> ReadResponseAsync(bool headRequest, TimeSpan idle, TimeSpan total) => ReadAsync(headRequest, idle, total);

    // headRequest null: read to the end; else stop at the first whole response (ending "whole").
    private async Task<RawTranscript> ReadAsync(bool? headRequest, TimeSpan idle, TimeSpan total)
    {
        var received = new MemoryStream();
        var buffer = new byte[16384];
        var ending = "idle";
        using var overall = new CancellationTokenSource(total);
        while (!overall.IsCancellationRequested)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
            quiet.CancelAfter(idle);
            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, quiet.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (IOException)
            {
                ending = "reset";
                break;
            }

            if (read == 0)
            {
                ending = "closed";
                break;
            }

            received.Write(buffer, 0, read);
            if (headRequest is { } head && Http11ResponseReader.HasCompleteResponse(received.GetBuffer().AsSpan(0, (int)received.Length), head))
            {
                ending = "whole";
                break;
            }
        }

        return new RawTranscript(received.ToArray(), ending);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}

/// <summary>
/// What a raw connection received, and how it ended: <c>whole</c> (one response read in full), <c>closed</c>,
/// <c>reset</c> or <c>idle</c>. <see cref="Http11ResponseReader.Describe"/> decodes it.
/// </summary>
public sealed record RawTranscript(byte[] Bytes, string Ending);
