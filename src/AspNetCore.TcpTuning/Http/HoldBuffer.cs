using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Response bytes the app wrote that Kestrel has not seen yet: an ended part (writes that ended, which Kestrel would
/// already have flushed) followed by a tail (bytes advanced since the last flush, which Kestrel would still buffer).
/// </summary>
/// <remarks>
/// The bytes lie in blocks from Kestrel's own memory pool, handed out as Kestrel's pipe hands them out: the rest of the
/// current 4 KiB block, or a new one (larger requests are rented from the shared array pool, as the pipe rents them).
/// So an app that fills what it is given advances in the same sizes as without the policy (which bytes precede a
/// failing Advance depends on it), and holding a response costs the memory Kestrel's pipe would spend buffering it:
/// pooled blocks that go back at each hand-over, not arrays grown per response that outlive a gen0 collection.
/// </remarks>
internal sealed class HoldBuffer
{
    // Blocks when no pool is given (a server other than Kestrel, a unit test): the size Kestrel's pool hands out.
    private const int BlockSize = 4096;

    private readonly List<Block> _blocks = [];
    private readonly SpareBlockBudget _spareBudget;
    private MemoryPool<byte>? _pool;
    private int _start;  // bytes of the first block already handed over
    private int _length; // bytes held
    private int _ended;  // of which ended
    private Block _spare;      // a pool block kept from the last response for the connection's next one
    private bool _spareTaken;  // this buffer holds one unit of SpareBlockBudget

    // The last block, the one being filled: its Written lives here, not in the list (a held write then touches only
    // these fields); its array, when it has one, lets Append copy without Memory's span lookup.
    private int _tailWritten;
    private int _tailCapacity;
    private byte[]? _tailArray;
    private int _tailOffset;

    public HoldBuffer(SpareBlockBudget? spareBudget = null) => _spareBudget = spareBudget ?? SpareBlockBudget.Shared;

    /// <summary>Bytes held in all.</summary>
    public int Length => _length;

    /// <summary>Whether bytes were advanced since the last <see cref="EndWrite"/>.</summary>
    public bool HasTail => _length != _ended;

    /// <summary>The ended part.</summary>
    public Pieces Ended => new(this, 0, _ended);

    /// <summary>The tail: advanced, not yet ended by a flush.</summary>
    public Pieces Tail => new(this, _ended, _length - _ended);

    /// <summary>Everything held, ended part first.</summary>
    public Pieces All => new(this, 0, _length);

    /// <summary>Where new blocks come from for the response that begins (Kestrel's pool, or null for the array pool).</summary>
    public void UsePool(MemoryPool<byte>? pool) => _pool = pool;

    /// <summary>
    /// Whether <see cref="Clear"/> may keep one pool block for the next response instead of returning it (the buffer
    /// serves the connection's responses one after another), while its <see cref="SpareBlockBudget"/> allows; the owner
    /// calls <see cref="ReleaseSpare"/> when the connection ends.
    /// </summary>
    public bool KeepsSpare { get; set; }

    /// <summary>Returns the kept block, if any, and its unit of the budget.</summary>
    public void ReleaseSpare()
    {
        KeepsSpare = false;
        if (_spare.Owner is { } owner)
        {
            owner.Dispose();
            _spare = default;
        }

        if (_spareTaken)
        {
            _spareTaken = false;
            _spareBudget.Give();
        }
    }

    /// <summary>Room for at least <paramref name="sizeHint"/> bytes (at least one) after what is held.</summary>
    public Memory<byte> GetMemory(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_blocks.Count > 0 && _tailCapacity - _tailWritten >= needed)
        {
            return _blocks[^1].Memory[_tailWritten..];
        }

        var block = Rent(needed);
        AddBlock(block);
        return block.Memory;
    }

    /// <summary>The app wrote <paramref name="bytes"/> into the memory last handed out.</summary>
    public void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
        {
            return;
        }

        if (_blocks.Count == 0 || bytes > _tailCapacity - _tailWritten)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Can't advance past buffer size.");
        }

        _tailWritten += bytes;
        _length += bytes;
    }

    /// <summary>The first <paramref name="bytes"/> the app wrote into the memory last handed out, not yet advanced.</summary>
    public ReadOnlySpan<byte> Unadvanced(int bytes)
    {
        return _blocks[^1].Memory.Span.Slice(_tailWritten, bytes);
    }

    /// <summary>Copies <paramref name="source"/> after what is held.</summary>
    public void Append(ReadOnlySpan<byte> source)
    {
        // Most writes fit the block being filled: copy in place, touching only this buffer's fields.
        if (_tailArray is { } array && source.Length <= _tailCapacity - _tailWritten)
        {
            source.CopyTo(array.AsSpan(_tailOffset + _tailWritten, source.Length));
            _tailWritten += source.Length;
            _length += source.Length;
            return;
        }

        while (!source.IsEmpty)
        {
            var span = GetMemory(1).Span;
            var count = Math.Min(span.Length, source.Length);
            source[..count].CopyTo(span);
            Advance(count);
            source = source[count..];
        }
    }

    /// <summary>The tail becomes part of the ended bytes; returns how many bytes that added.</summary>
    public int EndWrite()
    {
        var added = _length - _ended;
        _ended = _length;
        return added;
    }

    /// <summary>
    /// The ended part was handed to Kestrel. <paramref name="memoryOutstanding"/>: the app still writes into memory
    /// handed out after the tail, so the last block stays.
    /// </summary>
    public void ConsumeEnded(bool memoryOutstanding) => Consume(_ended, memoryOutstanding);

    /// <summary>Everything was handed to Kestrel.</summary>
    public void ConsumeAll(bool memoryOutstanding) => Consume(_length, memoryOutstanding);

    /// <summary>Forgets what is held (the response is over) and returns every block.</summary>
    public void Clear()
    {
        if (_blocks.Count == 0)
        {
            _start = _length = _ended = 0;
            return;
        }

        foreach (var block in _blocks)
        {
            // A pool block kept for the next response spares a rent and a return per response (pipelined requests).
            if (KeepsSpare && block.Owner is not null && _spare.Owner is null && (_spareTaken || (_spareTaken = _spareBudget.TryTake())))
            {
                _spare = block with { Written = 0 };
                continue;
            }

            Return(block);
        }

        _blocks.Clear();
        ForgetTail();
        _start = _length = _ended = 0;
    }

    private void Consume(int bytes, bool memoryOutstanding)
    {
        _length -= bytes;
        // Consuming past the ended part consumes tail bytes too: nothing ended is left (never a negative offset).
        _ended = Math.Max(0, _ended - bytes);
        var offset = _start + bytes;
        var done = 0;
        while (done < _blocks.Count && offset >= WrittenAt(done))
        {
            var isLast = done == _blocks.Count - 1;
            if (isLast && (memoryOutstanding || _tailWritten < _tailCapacity))
            {
                // The block still being written stays, as in Kestrel's pipe: the next write goes after its bytes.
                break;
            }

            offset -= WrittenAt(done);
            Return(_blocks[done]);
            done++;
        }

        _blocks.RemoveRange(0, done);
        if (_blocks.Count == 0)
        {
            ForgetTail();
        }

        _start = _blocks.Count > 0 ? offset : 0;
    }

    private int WrittenAt(int index) => index == _blocks.Count - 1 ? _tailWritten : _blocks[index].Written;

    // The block being filled gives its Written back to the list, and the new one becomes the tail.
    private void AddBlock(Block block)
    {
        if (_blocks.Count > 0)
        {
            StoreTail();
        }

        _blocks.Add(block);
        _tailWritten = block.Written;
        _tailCapacity = block.Memory.Length;
        if (MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment))
        {
            _tailArray = segment.Array;
            _tailOffset = segment.Offset;
        }
        else
        {
            _tailArray = null;
        }
    }

    private void StoreTail() => CollectionsMarshal.AsSpan(_blocks)[^1].Written = _tailWritten;

    private void ForgetTail()
    {
        _tailWritten = 0;
        _tailCapacity = 0;
        _tailArray = null;
        _tailOffset = 0;
    }

    private Block Rent(int needed)
    {
        if (_spare.Owner is not null && needed <= _spare.Memory.Length)
        {
            var spare = _spare;
            _spare = default;
            return spare;
        }

        var size = needed <= BlockSize ? BlockSize : (int)BitOperations.RoundUpToPowerOf2((uint)needed);
        if (_pool is { } pool && size <= pool.MaxBufferSize)
        {
            var owner = pool.Rent(size);
            return new Block { Owner = owner, Memory = owner.Memory };
        }

        var array = ArrayPool<byte>.Shared.Rent(size);
        return new Block { Array = array, Memory = array };
    }

    private static void Return(Block block)
    {
        if (block.Owner is { } owner)
        {
            owner.Dispose();
        }
        else if (block.Array is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private struct Block
    {
        public IMemoryOwner<byte>? Owner;
        public byte[]? Array;
        public Memory<byte> Memory;
        public int Written;
    }

    /// <summary>A run of held bytes, as the pieces of the blocks it spans.</summary>
    public readonly struct Pieces
    {
        private readonly HoldBuffer _buffer;
        private readonly int _offset;

        internal Pieces(HoldBuffer buffer, int offset, int length)
        {
            _buffer = buffer;
            _offset = offset;
            Length = length;
        }

        public int Length { get; }

        public bool IsEmpty => Length == 0;

        public Enumerator GetEnumerator() => new(_buffer, _buffer._start + _offset, Length);

        /// <summary>Walks the blocks from a byte offset into the first one.</summary>
        public struct Enumerator
        {
            private readonly HoldBuffer _buffer;
            private int _index;
            private int _skip;
            private int _remaining;

            internal Enumerator(HoldBuffer buffer, int skip, int length)
            {
                _buffer = buffer;
                _index = -1;
                _skip = skip;
                _remaining = length;
                Current = default;
            }

            public ReadOnlyMemory<byte> Current { get; private set; }

            public bool MoveNext()
            {
                while (_remaining > 0 && ++_index < _buffer._blocks.Count)
                {
                    var written = _buffer.WrittenAt(_index);
                    if (_skip >= written)
                    {
                        _skip -= written;
                        continue;
                    }

                    var count = Math.Min(written - _skip, _remaining);
                    Current = _buffer._blocks[_index].Memory.Slice(_skip, count);
                    _skip = 0;
                    _remaining -= count;
                    return true;
                }

                return false;
            }
        }
    }
}
