using System.Buffers;
using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The connection's input, reporting reads and how far the reader examined to <see cref="QuickAckController"/>.</summary>
internal sealed class QuickAckPipeReader : PipeReader
{
    private readonly PipeReader _inner;
    private readonly QuickAckController _controller;
    private SequencePosition _bufferEnd;

    public QuickAckPipeReader(PipeReader inner, QuickAckController controller)
    {
        _inner = inner;
        _controller = controller;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        _controller.OnReading();
        var read = _inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(OnRead(read.Result));
        }

        return AwaitRead(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!_inner.TryRead(out result))
        {
            return false;
        }

        OnRead(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _controller.OnAdvanced(examined.Equals(_bufferEnd));
        _inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> read) => OnRead(await read.ConfigureAwait(false));

    private ReadResult OnRead(ReadResult result)
    {
        _bufferEnd = result.Buffer.End;
        if (!result.Buffer.IsEmpty)
        {
            _controller.OnRead();
        }

        return result;
    }
}
