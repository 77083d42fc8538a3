using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>The connection's input, reporting reads and how far the reader examined to <see cref="QuickAckController"/>.</summary>
/// <remarks>
/// A pipe has one read outstanding at a time, so a read that waits completes through this reader itself, reused (an
/// async method would allocate its state machine on every request that waits for its bytes, as keep-alive ones do).
/// </remarks>
internal sealed class QuickAckPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly PipeReader _inner;
    private readonly QuickAckController _controller;
    private readonly Action _onInnerCompleted;
    private ManualResetValueTaskSourceCore<ReadResult> _source;
    private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pending;
    private SequencePosition _bufferEnd;

    public QuickAckPipeReader(PipeReader inner, QuickAckController controller)
    {
        _inner = inner;
        _controller = controller;
        _onInnerCompleted = OnInnerCompleted;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        _controller.OnReading();
        var read = _inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(OnRead(read.Result));
        }

        _source.Reset();
        _pending = read.ConfigureAwait(false).GetAwaiter();
        _pending.UnsafeOnCompleted(_onInnerCompleted);
        return new ValueTask<ReadResult>(this, _source.Version);
    }

    /// <inheritdoc />
    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _source.GetResult(token);

    /// <inheritdoc />
    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    /// <inheritdoc />
    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    private void OnInnerCompleted()
    {
        var pending = _pending;
        _pending = default;
        try
        {
            _source.SetResult(OnRead(pending.GetResult()));
        }
        catch (Exception ex)
        {
            _source.SetException(ex);
        }
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
