using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The output the connection writes into: counts bytes and flushes for <see cref="CorkingSendPump"/>.</summary>
internal sealed class CorkingPipeWriter(PipeWriter inner, CorkingSendPump pump) : PipeWriter
{
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        inner.Advance(bytes);
        pump.OnAdvanced(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        pump.OnFlushing();
        return inner.FlushAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        // PipeWriter.WriteAsync is a write and a flush; count the bytes before the flush marks an end.
        var span = inner.GetSpan(source.Length);
        if (span.Length >= source.Length)
        {
            source.Span.CopyTo(span);
            Advance(source.Length);
            return FlushAsync(cancellationToken);
        }

        pump.OnAdvanced(source.Length);
        pump.OnFlushing();
        return inner.WriteAsync(source, cancellationToken);
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
