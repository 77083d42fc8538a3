using System.Buffers;
using System.Numerics;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Response bytes the app wrote that Kestrel has not seen yet: an ended part (writes that ended, which Kestrel would
/// already have flushed) followed by a tail (bytes advanced since the last flush, which Kestrel would still buffer).
/// They reach Kestrel as one counted write, so its data-rate accounting sees them as it sees the app's own writes.
/// </summary>
internal sealed class HoldBuffer
{
    // Kept between responses up to this size; larger arrays go back to the pool when the response ends.
    private const int RetainedSize = 4096;

    // Memory is handed out in runs shaped like Kestrel's pipe blocks, so an app that fills what it is given advances
    // in the same sizes as without the policy (which bytes precede a failing Advance depends on it).
    private const int BlockSize = 4096;

    private byte[] _array = [];
    private int _start;
    private int _ended;
    private int _count;
    private int _blockEnd;

    /// <summary>Bytes held in all.</summary>
    public int Length => _count - _start;

    /// <summary>The ended part.</summary>
    public ReadOnlyMemory<byte> Ended => _array.AsMemory(_start, _ended - _start);

    /// <summary>The tail: advanced, not yet ended by a flush.</summary>
    public ReadOnlyMemory<byte> Tail => _array.AsMemory(_ended, _count - _ended);

    /// <summary>Everything held, ended part first.</summary>
    public ReadOnlyMemory<byte> All => _array.AsMemory(_start, _count - _start);

    /// <summary>
    /// Room for at least <paramref name="sizeHint"/> bytes (at least one) after what is held: the rest of the current
    /// block, or a new one (4 KiB, or the hint rounded up to a power of two, as Kestrel's pipe rents).
    /// </summary>
    public Memory<byte> GetMemory(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_blockEnd - _count < needed)
        {
            var block = needed <= BlockSize ? BlockSize : (int)BitOperations.RoundUpToPowerOf2((uint)needed);
            if (_array.Length - _count < block)
            {
                Grow(block);
            }

            _blockEnd = _count + block;
        }

        return _array.AsMemory(_count, _blockEnd - _count);
    }

    /// <summary>The app wrote <paramref name="bytes"/> into the memory last handed out.</summary>
    public void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > _blockEnd - _count)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Can't advance past buffer size.");
        }

        _count += bytes;
    }

    /// <summary>The first <paramref name="bytes"/> the app wrote into the memory last handed out, not yet advanced.</summary>
    public ReadOnlySpan<byte> Unadvanced(int bytes) => _array.AsSpan(_count, bytes);

    /// <summary>Copies <paramref name="source"/> after what is held.</summary>
    public void Append(ReadOnlySpan<byte> source)
    {
        source.CopyTo(GetMemory(source.Length).Span);
        _count += source.Length;
    }

    /// <summary>The tail becomes part of the ended bytes; returns how many bytes that added.</summary>
    public int EndWrite()
    {
        var added = _count - _ended;
        _ended = _count;
        return added;
    }

    /// <summary>
    /// The ended part was handed to Kestrel. <paramref name="memoryOutstanding"/>: the app still writes into memory
    /// handed out after the tail, so nothing may move until it advances.
    /// </summary>
    public void ConsumeEnded(bool memoryOutstanding)
    {
        _start = _ended;
        Compact(memoryOutstanding);
    }

    /// <summary>Everything was handed to Kestrel.</summary>
    public void ConsumeAll(bool memoryOutstanding)
    {
        _start = _ended = _count;
        Compact(memoryOutstanding);
    }

    /// <summary>Forgets what is held (the response is over) and lets a large array go.</summary>
    public void Clear()
    {
        _start = _ended = _count = _blockEnd = 0;
        if (_array.Length > RetainedSize)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    private void Compact(bool memoryOutstanding)
    {
        if (_start == _count && !memoryOutstanding)
        {
            _start = _ended = _count = _blockEnd = 0;
        }
    }

    private void Grow(int needed)
    {
        // Memory handed out before is abandoned by asking again (the PipeWriter contract), so the held bytes may move.
        var length = _count - _start;
        if (_array.Length - length >= needed)
        {
            _array.AsSpan(_start, length).CopyTo(_array);
            _ended -= _start;
            _count = length;
            _start = 0;
            return;
        }

        var next = ArrayPool<byte>.Shared.Rent(Math.Max(length + needed, Math.Max(RetainedSize, _array.Length * 2)));
        _array.AsSpan(_start, length).CopyTo(next);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _ended -= _start;
        _count = length;
        _start = 0;
        _array = next;
    }
}
