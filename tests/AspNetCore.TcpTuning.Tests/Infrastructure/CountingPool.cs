using System.Buffers;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>A memory pool that counts what is out, with blocks of Kestrel's size.</summary>
internal sealed class CountingPool : MemoryPool<byte>
{
    public int Rented { get; private set; }

    public int Outstanding { get; private set; }

    public override int MaxBufferSize => 4096;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Assert.InRange(minBufferSize, -1, MaxBufferSize);
        Rented++;
        Outstanding++;
        return new Owner(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Owner(CountingPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = new byte[4096];

        public void Dispose() => pool.Outstanding--;
    }
}
