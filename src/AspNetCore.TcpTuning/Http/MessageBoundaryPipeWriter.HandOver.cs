using System.Buffers;
using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Http;

// Handing held bytes to Kestrel.
internal sealed partial class MessageBoundaryPipeWriter
{
    // Half of Kestrel's 4 KiB block: a hint Kestrel's pipe serves from its pool, framing included.
    private const int MaxKestrelSizeHint = 2048;

    // Hands the ended bytes to Kestrel as one counted write and flushes (with Kestrel's own unflushed bytes, which
    // precede them). The tail stays held. Under _sync.
    private ValueTask<FlushResult> FlushEnded(FlushReason reason, CancellationToken cancellationToken)
    {
        if (reason is FlushReason.Explicit or FlushReason.Delay)
        {
            // The bytes must reach the wire now, not fill a segment on the send side (before a read, the read says so).
            _cork?.Push();
        }

        OnHandedOver(reason);
        var ended = _buffer.Ended;
        if (ended.IsEmpty)
        {
            return _inner.Writer.FlushAsync(cancellationToken);
        }

        var flush = WriteToKestrel(ended, cancellationToken);
        _buffer.ConsumeEnded(_memoryOutstanding);
        return flush;
    }

    // Hands everything held to Kestrel as one counted write and flushes (a flush alone when the held bytes are all in
    // Kestrel's buffer already). Under _sync.
    private ValueTask<FlushResult> HandOverAll(FlushReason reason, CancellationToken cancellationToken = default)
    {
        var kestrelHolds = _kestrelBytes > 0 || _policy.Held > _buffer.Ended.Length;
        OnHandedOver(reason);
        if (_buffer.Length == 0)
        {
            return kestrelHolds ? _inner.Writer.FlushAsync(cancellationToken) : default;
        }

        var flush = WriteToKestrel(_buffer.All, cancellationToken);
        _buffer.ConsumeAll(_memoryOutstanding);
        return flush;
    }

    // Hands held bytes to Kestrel as one counted write and flush. Kestrel times a flush by the bytes it counted, and it
    // counts written bytes, not advanced ones: a run across blocks is copied into one rented array for the write
    // (Kestrel copies it before WriteAsync returns, so the array goes back at once). Under _sync.
    private ValueTask<FlushResult> WriteToKestrel(HoldBuffer.Pieces pieces, CancellationToken cancellationToken)
    {
        var enumerator = pieces.GetEnumerator();
        enumerator.MoveNext();
        if (enumerator.Current.Length == pieces.Length)
        {
            return _inner.Writer.WriteAsync(enumerator.Current, cancellationToken);
        }

        var array = ArrayPool<byte>.Shared.Rent(pieces.Length);
        try
        {
            var copied = 0;
            foreach (var piece in pieces)
            {
                piece.Span.CopyTo(array.AsSpan(copied));
                copied += piece.Length;
            }

            return _inner.Writer.WriteAsync(array.AsMemory(0, copied), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    // Copies held bytes into Kestrel's buffer without flushing. Under _sync.
    private void CommitToKestrel(HoldBuffer.Pieces pieces)
    {
        foreach (var piece in pieces)
        {
            CommitToKestrel(piece.Span);
        }
    }

    // Copies bytes into Kestrel's buffer without flushing. The size hint stays under a pool block with room for a
    // chunk's framing: Kestrel's pipe allocates a fresh array for any larger hint (a chunked response adds its framing
    // to the hint), garbage per response that bare Kestrel's own writes never make. Under _sync.
    private void CommitToKestrel(ReadOnlySpan<byte> bytes)
    {
        var writer = _inner.Writer;
        while (!bytes.IsEmpty)
        {
            var span = writer.GetSpan(Math.Min(bytes.Length, MaxKestrelSizeHint));
            var count = Math.Min(span.Length, bytes.Length);
            bytes[..count].CopyTo(span);
            writer.Advance(count);
            bytes = bytes[count..];
        }
    }

    // Held bytes were handed to Kestrel (or are about to be, with a write that flushes them).
    private void OnHandedOver(FlushReason reason)
    {
        Flushed(reason);
        _kestrelBytes = 0;
    }

    // The held bytes leave: counted by reason when the metrics are listened to.
    private void Flushed(FlushReason reason)
    {
        if (_policy.Held > 0 && _metrics is { RecordsResponseFlushes: true } metrics)
        {
            var endpoint = (_context.Features[typeof(ITcpTuningFeature)] as ITcpTuningFeature)?.EndpointName;
            metrics.ResponseFlushed(endpoint, FlushReasonTag.Of(reason), _policy.Held);
        }

        _policy.OnFlushed();
    }
}
