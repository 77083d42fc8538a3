using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// <c>Response.Body</c> under the message-boundary policy: writes are held like <c>BodyWriter</c> writes, and
/// <see cref="FlushAsync(CancellationToken)"/> is the app's explicit flush.
/// </summary>
internal sealed class MessageBoundaryStream : Stream
{
    private readonly MessageBoundaryPipeWriter _writer;
    private readonly Stream _inner;

    public MessageBoundaryStream(MessageBoundaryPipeWriter writer, Stream inner)
    {
        _writer = writer;
        _inner = inner;
    }

    /// <summary>The server's own response stream, for synchronous writes.</summary>
    public Stream Inner => _inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var write = _writer.WriteAsync(buffer, cancellationToken);
        return write.IsCompletedSuccessfully ? default : AwaitWrite(write);

        static async ValueTask AwaitWrite(ValueTask<FlushResult> write) => await write.ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
        => await _writer.ExplicitFlushAsync(cancellationToken).ConfigureAwait(false);

    // Synchronous writes go to Kestrel's stream, which enforces AllowSynchronousIO and flushes everything held first
    // (same pipe, same order, once the held bytes are committed to it). After an abort that waits for held bytes,
    // nothing more is written, as Kestrel writes nothing after an abort.
    public override void Write(byte[] buffer, int offset, int count)
    {
        if (_writer.Aborting)
        {
            // Nothing more goes out, but Kestrel still judges the call (AllowSynchronousIO) as it would.
            _inner.Write([], 0, 0);
            return;
        }

        _writer.CommitHeld();
        _inner.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_writer.Aborting)
        {
            _inner.Write([], 0, 0);
            return;
        }

        _writer.CommitHeld();
        _inner.Write(buffer);
    }

    public override void Flush()
    {
        _writer.CommitHeld();
        _inner.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
