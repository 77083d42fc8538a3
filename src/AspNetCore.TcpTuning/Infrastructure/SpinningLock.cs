using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace AspNetCore.TcpTuning.Infrastructure;

/// <summary>
/// A reentrant lock for short sections that almost never meet another thread: one compare-exchange to enter and a
/// release store to leave, where <see cref="Lock"/> takes two interlocked operations and keeps more state. A waiter
/// spins, then yields and sleeps (<see cref="SpinWait"/>), so it suits only sections that never wait on anything.
/// </summary>
/// <remarks>
/// A mutable struct: keep it in a field that is not readonly and call it in place. <c>lock</c> on it does not compile,
/// which keeps a stray <c>lock</c> statement from taking a different lock.
/// </remarks>
internal struct SpinningLock
{
    // The owner's managed thread id, 0 while free; entries beyond the first by the owner.
    private int _owner;
    private int _recursion;

    /// <summary>Whether the current thread holds the lock.</summary>
    public readonly bool IsHeldByCurrentThread => Volatile.Read(in _owner) == Environment.CurrentManagedThreadId;

    public void Enter()
    {
        var thread = Environment.CurrentManagedThreadId;
        if (Interlocked.CompareExchange(ref _owner, thread, 0) != 0)
        {
            EnterContended(thread);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended(int thread)
    {
        if (Volatile.Read(ref _owner) == thread)
        {
            _recursion++;
            return;
        }

        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce();
        }
        while (Volatile.Read(ref _owner) != 0 || Interlocked.CompareExchange(ref _owner, thread, 0) != 0);
    }

    public void Exit()
    {
        Debug.Assert(IsHeldByCurrentThread, "Only the owner leaves the lock.");
        if (_recursion > 0)
        {
            _recursion--;
            return;
        }

        Volatile.Write(ref _owner, 0);
    }
}
