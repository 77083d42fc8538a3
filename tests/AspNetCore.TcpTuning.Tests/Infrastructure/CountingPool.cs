using System.Buffers;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>A memory pool that counts what is out, with blocks of Kestrel's size.</summary>
internal sealed class CountingPool(Func<Memory<byte>>? blocks = null) : MemoryPool<byte>
{
    /// <summary>Blocks that are a slice of a larger array, not at its start (a slab pool's).</summary>
    public static Memory<byte> SliceOfALargerArray() => new byte[4096 + 100].AsMemory(100, 4096);

    /// <summary>Blocks with no array behind them (native memory, as some pools hand out).</summary>
    public static Memory<byte> WithoutAnArray() => new ArraylessMemory(4096).Memory;

    public int Rented { get; private set; }

    public int Outstanding { get; private set; }

    public override int MaxBufferSize => 4096;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Assert.InRange(minBufferSize, -1, MaxBufferSize);
        Rented++;
        Outstanding++;
        return new Owner(this, blocks?.Invoke() ?? new byte[4096]);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Owner(CountingPool pool, Memory<byte> memory) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = memory;

        public void Dispose() => pool.Outstanding--;
    }

    // MemoryManager's TryGetArray answers false: MemoryMarshal.TryGetArray finds no array behind this memory.
    private sealed class ArraylessMemory(int length) : MemoryManager<byte>
    {
        private readonly byte[] _bytes = new byte[length];

        public override Span<byte> GetSpan() => _bytes;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
