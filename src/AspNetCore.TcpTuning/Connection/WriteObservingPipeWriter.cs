using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The connection's output, telling <see cref="QuickAckController"/> that the server wrote since its last read.</summary>
internal sealed class WriteObservingPipeWriter : PipeWriter
{
    private readonly PipeWriter _inner;
    private readonly QuickAckController _controller;

    public WriteObservingPipeWriter(PipeWriter inner, QuickAckController controller)
    {
        _inner = inner;
        _controller = controller;
    }

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        _controller.OnWrite();
        _inner.Advance(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        _controller.OnWrite();
        return _inner.WriteAsync(source, cancellationToken);
    }

    public override void CancelPendingFlush() => _inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
}
