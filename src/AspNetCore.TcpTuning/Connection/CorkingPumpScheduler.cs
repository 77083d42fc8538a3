using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Wakes a <see cref="CorkingSendPump"/> inline when the wake would only hold a partial segment again (a guess made
/// without a lock; a wrong guess only moves the work), otherwise on a shared <see cref="SendScheduler"/>, off the
/// application's thread as Kestrel's sends are.
/// </summary>
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
