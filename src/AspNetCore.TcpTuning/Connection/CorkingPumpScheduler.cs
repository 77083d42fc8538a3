using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Wakes a <see cref="CorkingSendPump"/>: inline, on the writing thread, when the wake would only find a partial
/// segment to hold again (the common case for small writes inside a message); otherwise on the shared
/// <see cref="SendScheduler"/>, so sends run off the application's thread as Kestrel's do.
/// </summary>
/// <remarks>
/// A wake dispatched only to hold again costs a thread-pool hop per write; bare Kestrel's sender, busy in its send
/// syscall, lets such writes accumulate instead. The guess is made on the writing thread without a lock: if it is
/// wrong, the pump still does the right thing, only on the other thread.
/// </remarks>
internal sealed class CorkingPumpScheduler(CorkingSendPump pump, PipeScheduler sendScheduler) : PipeScheduler
{
    public override void Schedule(Action<object?> action, object? state)
    {
        if (pump.WakeWouldOnlyHold)
        {
            action(state);
        }
        else
        {
            sendScheduler.Schedule(action, state);
        }
    }
}
