using AspNetCore.TcpTuning.Diagnostics;
using System.IO.Pipelines;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Replaces Kestrel's <see cref="IHttpResponseBodyFeature"/> for one request so that body writes, through
/// <c>Response.Body</c>, <c>Response.BodyWriter</c>, <c>Response.WriteAsync</c> or <c>SendFileAsync</c>, follow the
/// message-boundary flush policy.
/// </summary>
internal sealed class MessageBoundaryResponseBodyFeature : IHttpResponseBodyFeature, IResponseFlushFeature, IDisposable
{
    private readonly MessageBoundaryPipeWriter _writer;
    private IHttpResponseBodyFeature _inner = null!;
    private MessageBoundaryStream? _stream;

    public MessageBoundaryResponseBodyFeature(TimeProvider timeProvider, HeldResponseSweeper sweeper, TcpTuningMetrics? metrics = null)
        => _writer = new MessageBoundaryPipeWriter(timeProvider, sweeper, metrics);

    /// <summary>Takes over <paramref name="inner"/> for one response.</summary>
    public void Initialize(HttpContext context, IHttpResponseBodyFeature inner, ResponseFlushPolicy policy, bool routesOverride, ITcpCorkControl? cork)
    {
        _inner = inner;
        Completed = false;
        _writer.Initialize(context, inner, policy, routesOverride, cork);
        if (_stream is not null && !ReferenceEquals(_stream.Inner, inner.Stream))
        {
            _stream = null;
        }
    }

    /// <inheritdoc />
    public ResponseFlushMode Mode
    {
        get => _writer.Mode;
        set => _writer.Mode = value;
    }

    public Stream Stream => _stream ??= new MessageBoundaryStream(_writer, _inner.Stream);

    public PipeWriter Writer => _writer;

    public MessageBoundaryPipeWriter BoundaryWriter => _writer;

    /// <summary>Whether the app completed the response (<c>CompleteAsync</c>): Kestrel has written all of it.</summary>
    public bool Completed { get; private set; }

    public void DisableBuffering()
    {
        _writer.DisableBuffering();
        _inner.DisableBuffering();
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        // Kestrel's own SendFileAsync copies the file through its writer too; going through ours holds it like any write.
        => SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await _writer.EndMessageAsync(markEnd: false).ConfigureAwait(false);
        await _inner.CompleteAsync().ConfigureAwait(false);
        Completed = true;
        // Every byte of the response is written (Kestrel flushes a chunked terminator, but not always a Content-Length
        // tail): it ends here, not when the handler returns.
        _writer.Cork?.EndMessage(atNextFlush: false);
    }

    public void Dispose() => _writer.Dispose();
}
